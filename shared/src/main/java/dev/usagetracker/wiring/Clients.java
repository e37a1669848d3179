package dev.usagetracker.wiring;

import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import dev.usagetracker.config.ContainerLifecycle;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.store.UsageKeys;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The few clients every capability builds on, one of each per container, each built on first use: the
 * configuration, the clock, DynamoDB, SQS, KMS and Redis. The capability modules are the only users.
 */
public final class Clients {
    private final Config config;
    private final Clock clock;
    private final UsageKeys usageKeys;
    private final Lazy<DynamoDbClient> dynamo;
    private final Lazy<SqsClient> sqs;
    private final Lazy<KmsClient> kms;
    private final Lazy<Optional<Redis>> redis;

    public Clients(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.usageKeys = new UsageKeys(config.usageShards());
        // Anonymous classes, not lambdas: linking a lambda loads its return type, and a function jar
        // holds only the SDK clients it calls (the SQS client is not in the register jar, for one).
        // Each client is closed with its container (ContainerLifecycle), as its Redis connection is.
        dynamo = new Lazy<>(new Supplier<>() {
            @Override
            public DynamoDbClient get() {
                return ContainerLifecycle.register(AwsClients.dynamo(config));
            }
        });
        sqs = new Lazy<>(new Supplier<>() {
            @Override
            public SqsClient get() {
                return ContainerLifecycle.register(AwsClients.sqs(config));
            }
        });
        kms = new Lazy<>(new Supplier<>() {
            @Override
            public KmsClient get() {
                return ContainerLifecycle.register(AwsClients.kms(config));
            }
        });
        // Empty REDIS_URL: no Redis at all; the rate limiter then runs in its RATE_LIMIT_MODE from the start.
        redis = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<Redis> get() {
                return config.redisUrl().isBlank() ? Optional.empty()
                        : Optional.of(ContainerLifecycle.register(new Redis(config.redisUrl(), config.redis())));
            }
        });
    }

    public Config config() { return config; }
    public Clock clock() { return clock; }
    public DynamoDbClient dynamo() { return dynamo.get(); }
    public SqsClient sqs() { return sqs.get(); }
    public KmsClient kms() { return kms.get(); }
    /** The container's Redis connection, if {@code REDIS_URL} is set; for counters, caches and limits. */
    public Optional<Redis> redis() { return redis.get(); }
    /** How the aggregates' keys are sharded (USAGE_SHARDS). */
    public UsageKeys usageKeys() { return usageKeys; }
    /** How long raw hits and aggregates are kept (RETENTION_DAYS). */
    public Duration retention() { return Duration.ofDays(config.retentionDays()); }
}
