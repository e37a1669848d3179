package dev.usagetracker.config;

import dev.usagetracker.ratelimit.RateLimitSettings;
import dev.usagetracker.realtime.StreamSettings;
import dev.usagetracker.redis.RedisSettings;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Settings of one container, read once from its environment (template.yaml sets them on AWS). */
public record Config(
        String region,
        Map<String, URI> endpoints,
        Optional<String> accessKeyId,
        Optional<String> secretAccessKey,
        String clientsTable,
        String hitsTable,
        String usageTable,
        String hitsQueueUrl,
        String dataKeyId,
        String macKeyId,
        String signingKeyId,
        String jwtIssuer,
        String jwtAudience,
        Duration tokenTtl,
        int retentionDays,
        int usageShards,
        String redisUrl,
        java.util.List<String> adminAllowedCidrs,
        Duration authCacheTtl,
        Map<String, SdkSettings> sdk,
        RetryBackoff retryBackoff,
        RedisSettings redis,
        RateLimitSettings rateLimits,
        StreamSettings stream,
        dev.usagetracker.plans.PlanSettings plans) {

    public static Config fromEnvironment() {
        return from(LambdaEnvironment.get());
    }

    public static Config from(Map<String, String> env) {
        return new Config(
                value(env, "AWS_REGION", "us-east-1"),
                endpoints(env),
                optional(env, "AWS_ACCESS_KEY_ID"),
                optional(env, "AWS_SECRET_ACCESS_KEY"),
                value(env, "CLIENTS_TABLE", "ClientsTable"),
                value(env, "HITS_TABLE", "HitsTable"),
                value(env, "USAGE_TABLE", "UsageTable"),
                value(env, "HITS_QUEUE_URL", ""),
                value(env, "DATA_KEY_ID", "alias/usage-tracker-data"),
                value(env, "MAC_KEY_ID", "alias/usage-tracker-mac"),
                value(env, "SIGNING_KEY_ID", "alias/usage-tracker-signing"),
                value(env, "JWT_ISSUER", "https://usage-tracker"),
                value(env, "JWT_AUDIENCE", "usage-tracker-api"),
                Duration.ofSeconds(Long.parseLong(value(env, "JWT_TTL_SECONDS", "900"))),
                Integer.parseInt(value(env, "RETENTION_DAYS", "90")),
                Integer.parseInt(value(env, "USAGE_SHARDS", "4")),
                value(env, "REDIS_URL", ""),
                cidrs(value(env, "ADMIN_ALLOWED_CIDRS", "0.0.0.0/0,::/0")),
                Duration.ofSeconds(Long.parseLong(value(env, "AUTH_CACHE_SECONDS", "60"))),
                Map.of("dynamodb", SdkSettings.from(env, "dynamodb"), "sqs", SdkSettings.from(env, "sqs"),
                        "kms", SdkSettings.from(env, "kms"), "apigateway", SdkSettings.from(env, "apigateway")),
                RetryBackoff.from(env),
                RedisSettings.from(env),
                RateLimitSettings.from(env),
                StreamSettings.from(env),
                dev.usagetracker.plans.PlanSettings.from(env, RateLimitSettings.from(env)));
    }

    /**
     * The SDK's own variables: {@code AWS_ENDPOINT_URL_<SERVICE>} beats {@code AWS_ENDPOINT_URL}. Read
     * here rather than by the SDK because the local runtime runs functions in one process.
     */
    private static Map<String, URI> endpoints(Map<String, String> env) {
        Map<String, URI> endpoints = new java.util.HashMap<>();
        for (String service : new String[] {"dynamodb", "sqs", "kms"}) {
            optional(env, "AWS_ENDPOINT_URL_" + service.toUpperCase(java.util.Locale.ROOT))
                    .or(() -> optional(env, "AWS_ENDPOINT_URL"))
                    .ifPresent(url -> endpoints.put(service, URI.create(url)));
        }
        return Map.copyOf(endpoints);
    }

    public SdkSettings sdk(String service) {
        return sdk.get(service);
    }

    /** A misspelt block fails the container's start rather than silently allowing or denying. */
    private static java.util.List<String> cidrs(String csv) {
        return java.util.Arrays.stream(csv.split(",")).map(String::trim).filter(c -> !c.isEmpty())
                .map(c -> dev.usagetracker.clients.Cidr.normalize(c).orElseThrow(() ->
                        new IllegalArgumentException("ADMIN_ALLOWED_CIDRS: not a CIDR block: " + c)))
                .toList();
    }

    public Optional<URI> endpoint(String service) {
        return Optional.ofNullable(endpoints.get(service));
    }

    private static Optional<String> optional(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private static String value(Map<String, String> env, String name, String fallback) {
        return optional(env, name).orElse(fallback);
    }
}
