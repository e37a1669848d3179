package dev.usagetracker.forwarder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Posts one batch to {@code /api/logs} and keeps at it within the invocation's deadline: 429 waits its
 * {@code Retry-After}, 5xx and network errors back off with full jitter (0.5 s base, 30 s cap), as the SDKs do.
 * Every attempt carries the batch's own Idempotency-Key and body. What cannot be sent before the deadline
 * throws {@link Incomplete}: the invocation fails and Lambda retries it with the same payload, so the same keys.
 */
public final class IngestClient {

    /** What the service made of a batch. */
    public sealed interface Outcome {
        /** 202: the batch is durable and counted once. */
        record Accepted(int hits) implements Outcome {}
        /** 400 naming hits: nothing of the batch was taken; these hits never will be. */
        record Refused(Set<Integer> indexes, String detail) implements Outcome {}
        /** 400 naming no hit, or 413: nothing was taken; smaller batches may be. */
        record TooLarge(String detail) implements Outcome {}
        /** 422 (the key was used with another body) or a 400 after an attempt that may have landed: not re-sent. */
        record Uncertain(String detail) implements Outcome {}
    }

    /** The batch could not be delivered in time (or the service refused the credentials): fail the invocation. */
    public static final class Incomplete extends RuntimeException {
        Incomplete(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HIT_FIELD = Pattern.compile("^hits\\[(\\d+)]");
    private static final Duration BACKOFF_BASE = Duration.ofMillis(500);
    private static final Duration BACKOFF_CAP = Duration.ofSeconds(30);

    private final HttpClient http;
    private final URI logsUri;
    private final Supplier<String> apiKey;
    private final Duration requestTimeout;
    private final Clock clock;

    public IngestClient(HttpClient http, URI baseUrl, Supplier<String> apiKey, Duration requestTimeout, Clock clock) {
        this.http = http;
        this.logsUri = baseUrl.resolve("/api/logs");
        this.apiKey = apiKey;
        this.requestTimeout = requestTimeout;
        this.clock = clock;
    }

    public Outcome send(HitBatch batch, Instant deadline) throws InterruptedException {
        boolean mayHaveLanded = false;
        for (int attempt = 1; ; attempt++) {
            Duration wait;
            String why;
            Duration timeout = min(requestTimeout, Duration.between(clock.instant(), deadline));
            if (timeout.toMillis() < 100) throw new Incomplete("batch " + batch.idempotencyKey() + " not accepted before the invocation's deadline (no time left for another attempt)");
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(logsUri)
                        .timeout(timeout)
                        .header("Content-Type", "application/json")
                        .header("X-API-Key", apiKey.get())
                        .header("Idempotency-Key", batch.idempotencyKey())
                        .header("User-Agent", "usage-tracker-forwarder/1")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(batch.body()))
                        .build(), HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                if (status == 202 || status == 200) {
                    JsonNode body = parse(response.body());
                    return new Outcome.Accepted(body.path("accepted").asInt(batch.size()));
                }
                JsonNode problem = parse(response.body());
                String detail = problem.path("detail").asText(problem.path("title").asText("HTTP " + status));
                switch (status) {
                    case 400 -> {
                        Set<Integer> named = namedHits(problem);
                        if (mayHaveLanded) return new Outcome.Uncertain(detail);
                        return named.isEmpty() ? new Outcome.TooLarge(detail) : new Outcome.Refused(named, detail);
                    }
                    case 413 -> { return new Outcome.TooLarge(detail); }
                    case 422 -> { return new Outcome.Uncertain(detail); }
                    case 401, 403, 404, 405 -> throw new Incomplete("the service answered " + status + " (" + detail
                            + "): check USAGE_TRACKER_URL and the API key; the invocation fails so Lambda retries it");
                    case 429 -> {
                        wait = retryAfter(response).orElse(Duration.ofSeconds(1));
                        why = "429 " + detail;
                    }
                    default -> {
                        if (status < 500 && status != 408 && status != 425) {
                            return new Outcome.Uncertain("HTTP " + status + ": " + detail);
                        }
                        mayHaveLanded = true;
                        wait = backoff(attempt);
                        why = "HTTP " + status;
                    }
                }
            } catch (IOException e) {  // includes HttpTimeoutException: the request may have landed
                mayHaveLanded = true;
                wait = backoff(attempt);
                why = e.getClass().getSimpleName();
            }
            if (clock.instant().plus(wait).plusMillis(100).isAfter(deadline)) {
                throw new Incomplete("batch " + batch.idempotencyKey() + " not accepted before the invocation's deadline (last: " + why + ")");
            }
            Thread.sleep(Math.max(1, wait.toMillis()));
        }
    }

    private static Set<Integer> namedHits(JsonNode problem) {
        Set<Integer> named = new TreeSet<>();
        for (JsonNode error : problem.path("errors")) {
            Matcher m = HIT_FIELD.matcher(error.path("field").asText(""));
            if (m.find()) named.add(Integer.parseInt(m.group(1)));
        }
        return named;
    }

    private static java.util.Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").flatMap(v -> {
            try {
                return java.util.Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(v.strip()))));
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        });
    }

    static Duration backoff(int attempt) {
        long cap = Math.min(BACKOFF_CAP.toMillis(), BACKOFF_BASE.toMillis() << Math.min(attempt - 1, 10));
        return Duration.ofMillis(ThreadLocalRandom.current().nextLong(cap + 1));
    }

    private static JsonNode parse(String body) {
        try {
            JsonNode node = body == null || body.isEmpty() ? null : JSON.readTree(body);
            return node == null ? JSON.createObjectNode() : node;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
