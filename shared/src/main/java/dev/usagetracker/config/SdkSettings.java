package dev.usagetracker.config;

import java.time.Duration;
import java.util.Map;

/**
 * How long an AWS call may take and how often it is tried. The defaults suit the request path: a
 * dependency that stops answering costs at most {@code callTimeout} before the caller degrades (SQS →
 * DynamoDB fallback, 503 with Retry-After), instead of a Lambda timeout. The queue consumer, which
 * has a 30 s budget and nobody waiting on it, sets longer ones in template.yaml.
 *
 * @param connectTimeout TCP connect; a dead host or a closed port fails within this
 * @param attemptTimeout one HTTP attempt, including reading the response
 * @param callTimeout the whole call, every retry and backoff included
 * @param maxAttempts first attempt plus retries (the SDK's standard strategy: exponential backoff
 *                    with full jitter and a retry quota that stops retrying when most calls fail)
 */
public record SdkSettings(Duration connectTimeout, Duration attemptTimeout, Duration callTimeout, int maxAttempts) {

    public static final SdkSettings DEFAULTS = new SdkSettings(Duration.ofMillis(1_000), Duration.ofMillis(800),
            Duration.ofMillis(2_000), 3);

    public SdkSettings {
        if (connectTimeout.isNegative() || connectTimeout.isZero() || attemptTimeout.isNegative()
                || attemptTimeout.isZero() || callTimeout.compareTo(attemptTimeout) < 0) {
            throw new IllegalArgumentException("SDK timeouts must be positive and the call timeout at least one attempt");
        }
        if (maxAttempts < 1 || maxAttempts > 10) throw new IllegalArgumentException("AWS_MAX_ATTEMPTS must be 1..10");
    }

    /** {@code AWS_SDK_CONNECT_TIMEOUT_MS}, {@code AWS_SDK_ATTEMPT_TIMEOUT_MS}, {@code AWS_SDK_CALL_TIMEOUT_MS}, {@code AWS_MAX_ATTEMPTS}. */
    public static SdkSettings from(Map<String, String> env) {
        return new SdkSettings(
                millis(env, "AWS_SDK_CONNECT_TIMEOUT_MS", DEFAULTS.connectTimeout),
                millis(env, "AWS_SDK_ATTEMPT_TIMEOUT_MS", DEFAULTS.attemptTimeout),
                millis(env, "AWS_SDK_CALL_TIMEOUT_MS", DEFAULTS.callTimeout),
                Integer.parseInt(env.getOrDefault("AWS_MAX_ATTEMPTS", Integer.toString(DEFAULTS.maxAttempts)).trim()));
    }

    private static Duration millis(Map<String, String> env, String name, Duration fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : Duration.ofMillis(Long.parseLong(v.trim()));
    }
}
