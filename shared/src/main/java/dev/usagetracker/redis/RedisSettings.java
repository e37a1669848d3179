package dev.usagetracker.redis;

import java.time.Duration;
import java.util.Map;

/**
 * How a container talks to Redis. The timeouts are short on purpose: Redis answers in well under a
 * millisecond inside a VPC, so a command that takes 100 ms means Redis is in trouble, and the circuit
 * breaker should hear about it quickly rather than hold a Lambda invocation for seconds.
 *
 * @param keyPrefix       prepended to every key, so stages (or test runs) can share one Redis
 * @param commandTimeout  a command that has no answer by then fails ({@code REDIS_TIMEOUT_MS})
 * @param connectTimeout  TCP (and TLS) connect and handshake, and the first command of a container, which
 *                        on a cold JVM is mostly class loading ({@code REDIS_CONNECT_TIMEOUT_MS})
 * @param breakerOpen     how long the breaker stays open before it lets a probe through
 *                        ({@code REDIS_BREAKER_OPEN_SECONDS}); while open a call costs microseconds
 */
public record RedisSettings(String keyPrefix, Duration commandTimeout, Duration connectTimeout, Duration breakerOpen) {

    public static RedisSettings from(Map<String, String> env) {
        return new RedisSettings(
                env.getOrDefault("REDIS_KEY_PREFIX", "ut:").trim(),
                Duration.ofMillis(positive(env, "REDIS_TIMEOUT_MS", 100)),
                Duration.ofMillis(positive(env, "REDIS_CONNECT_TIMEOUT_MS", 1000)),
                Duration.ofSeconds(positive(env, "REDIS_BREAKER_OPEN_SECONDS", 10)));
    }

    private static long positive(Map<String, String> env, String name, long fallback) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) return fallback;
        long value;
        try {
            value = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, not '" + raw + "'");
        }
        if (value <= 0) throw new IllegalArgumentException(name + " must be positive");
        return value;
    }
}
