package dev.usagetracker.erasure;

import java.util.Map;

/**
 * {@code ERASURE_QUEUE_URL}: the erasure queue; {@code ERASURE_DELAY_SECONDS} (default 60, SQS allows
 * 0..900): how long a queued erasure waits, longer than the ingest function's timeout so that no request
 * authenticated before the client was marked {@code erasing} is still writing when the erasure sweeps.
 */
public record ErasureSettings(String queueUrl, int delaySeconds) {
    public ErasureSettings {
        if (delaySeconds < 0 || delaySeconds > 900) throw new IllegalArgumentException("ERASURE_DELAY_SECONDS must be 0..900");
    }

    public static ErasureSettings from(Map<String, String> env) {
        return new ErasureSettings(env.getOrDefault("ERASURE_QUEUE_URL", ""),
                Integer.parseInt(env.getOrDefault("ERASURE_DELAY_SECONDS", "60").strip()));
    }
}
