package dev.usagetracker.forwarder;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * The forwarder's environment: {@code USAGE_TRACKER_URL} (required), {@code FIELD_MAP} (see {@link FieldMapping}),
 * {@code MAX_BATCH_HITS} (1–500, 500: keep it at or below the smallest {@code ingest_hits} limit of the client's
 * plan, so every batch is keyed the same on every retry), {@code MAX_CONCURRENT_REQUESTS} (4),
 * {@code REQUEST_TIMEOUT_MS} (10000), {@code DEADLINE_MARGIN_MS} (3000: stops retrying that long before the
 * invocation's timeout, so it can fail cleanly and be retried).
 */
public record ForwarderSettings(URI baseUrl, FieldMapping mapping, int maxBatchHits, int concurrency,
                                Duration requestTimeout, Duration deadlineMargin) {

    public static ForwarderSettings from(Map<String, String> env) {
        String url = env.get("USAGE_TRACKER_URL");
        if (url == null || url.isBlank()) throw new IllegalStateException("USAGE_TRACKER_URL is not set");
        URI base = URI.create(url.strip());
        if (!"https".equals(base.getScheme()) && !"http".equals(base.getScheme())) {
            throw new IllegalStateException("USAGE_TRACKER_URL must be an http(s) URL");
        }
        return new ForwarderSettings(base, FieldMapping.parse(env.get("FIELD_MAP")),
                number(env, "MAX_BATCH_HITS", 500, 1, 500), number(env, "MAX_CONCURRENT_REQUESTS", 4, 1, 32),
                Duration.ofMillis(number(env, "REQUEST_TIMEOUT_MS", 10_000, 100, 60_000)),
                Duration.ofMillis(number(env, "DEADLINE_MARGIN_MS", 3_000, 0, 60_000)));
    }

    private static int number(Map<String, String> env, String name, int fallback, int min, int max) {
        String value = env.get(name);
        if (value == null || value.isBlank()) return fallback;
        try {
            int n = Integer.parseInt(value.strip());
            if (n < min || n > max) throw new IllegalStateException(name + " must be " + min + ".." + max);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalStateException(name + " must be a whole number");
        }
    }
}
