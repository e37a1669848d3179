package dev.usagetracker.config;

import java.time.Duration;
import java.util.Map;

/**
 * How long an AWS call may take and how often it is tried, per service. The defaults suit the request
 * path: a dependency that stops answering costs at most {@code callTimeout} before the caller degrades
 * (SQS → DynamoDB fallback within 2 s, 503 with Retry-After), instead of a Lambda timeout. The queue consumer, which
 * has a 30 s budget and nobody waiting on it, sets longer ones in template.yaml.
 *
 * @param connectTimeout TCP connect; a dead host or a closed port fails within this
 * @param attemptTimeout one HTTP attempt, including reading the response
 * @param callTimeout the whole call, every retry and backoff included
 * @param maxAttempts first attempt plus retries (the SDK's standard strategy: exponential backoff
 *                    with full jitter and a retry quota that stops retrying when most calls fail)
 */
public record SdkSettings(Duration connectTimeout, Duration attemptTimeout, Duration callTimeout, int maxAttempts) {

    /**
     * SQS is the fail-over path of ingest, so it gives up first: a hung queue costs at most 2 s before
     * the hits go straight to DynamoDB. DynamoDB and KMS get more room, because their first call in a
     * cold container (class loading, a new TLS connection) can take a second on its own.
     */
    static final SdkSettings SQS_DEFAULTS = new SdkSettings(Duration.ofMillis(1_000), Duration.ofMillis(1_000),
            Duration.ofMillis(2_000), 3);
    static final SdkSettings DEFAULTS = new SdkSettings(Duration.ofMillis(1_000), Duration.ofMillis(2_000),
            Duration.ofMillis(5_000), 3);

    public SdkSettings {
        if (connectTimeout.isNegative() || connectTimeout.isZero() || attemptTimeout.isNegative()
                || attemptTimeout.isZero() || callTimeout.compareTo(attemptTimeout) < 0) {
            throw new IllegalArgumentException("SDK timeouts must be positive and the call timeout at least one attempt");
        }
        if (maxAttempts < 1 || maxAttempts > 10) throw new IllegalArgumentException("AWS_MAX_ATTEMPTS must be 1..10");
    }

    /**
     * {@code AWS_SDK_CONNECT_TIMEOUT_MS}, {@code AWS_SDK_ATTEMPT_TIMEOUT_MS}, {@code AWS_SDK_CALL_TIMEOUT_MS}
     * and {@code AWS_MAX_ATTEMPTS}, each overridable per service with a suffix ({@code _SQS},
     * {@code _DYNAMODB}, {@code _KMS}).
     */
    public static SdkSettings from(Map<String, String> env, String service) {
        SdkSettings d = service.equals("sqs") ? SQS_DEFAULTS : DEFAULTS;
        String suffix = "_" + service.toUpperCase(java.util.Locale.ROOT);
        return new SdkSettings(
                millis(env, "AWS_SDK_CONNECT_TIMEOUT_MS", suffix, d.connectTimeout),
                millis(env, "AWS_SDK_ATTEMPT_TIMEOUT_MS", suffix, d.attemptTimeout),
                millis(env, "AWS_SDK_CALL_TIMEOUT_MS", suffix, d.callTimeout),
                Integer.parseInt(value(env, "AWS_MAX_ATTEMPTS", suffix).orElse(Integer.toString(d.maxAttempts))));
    }

    private static java.util.Optional<String> value(Map<String, String> env, String name, String suffix) {
        String v = env.get(name + suffix);
        if (v == null || v.isBlank()) v = env.get(name);
        return v == null || v.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(v.trim());
    }

    private static Duration millis(Map<String, String> env, String name, String suffix, Duration fallback) {
        return value(env, name, suffix).map(v -> Duration.ofMillis(Long.parseLong(v))).orElse(fallback);
    }
}
