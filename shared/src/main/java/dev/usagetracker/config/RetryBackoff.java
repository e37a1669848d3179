package dev.usagetracker.config;

import java.time.Duration;
import java.util.Map;

/** The consumer's redelivery backoff: {@code RETRY_BASE_SECONDS} (30) and {@code RETRY_MAX_SECONDS} (900). */
public record RetryBackoff(Duration base, Duration max) {

    public static RetryBackoff from(Map<String, String> env) {
        return new RetryBackoff(Duration.ofSeconds(Long.parseLong(env.getOrDefault("RETRY_BASE_SECONDS", "30").trim())),
                Duration.ofSeconds(Long.parseLong(env.getOrDefault("RETRY_MAX_SECONDS", "900").trim())));
    }
}
