package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.config.Config;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitConsumer;
import dev.usagetracker.ingest.HitConsumer.QueuedMessage;
import dev.usagetracker.ingest.HitLedger;
import dev.usagetracker.store.DynamoHitLedger;
import dev.usagetracker.store.DynamoUsageStore;
import dev.usagetracker.store.UsageKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * SQS delivers at least once; the ledger must count exactly once. Each test drives the real consumer
 * against real DynamoDB (moto_server) and checks both the raw-hit items and the aggregates, with both
 * ledger designs (HIT_LEDGER): transactions only, and the recount path that the light groups here take.
 */
@ExtendWith(TestStack.Extension.class)
class ExactlyOnceIT {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    private TestStack stack;
    private Config config;
    private UsageKeys keys;

    @BeforeEach
    void setUp(TestStack stack) {
        this.stack = stack;
        this.config = stack.config();
        this.keys = new UsageKeys(config.usageShards());
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void replayedBatchIsCountedOnce(DynamoHitLedger.Mode mode) {
        String client = newClient();
        List<QueuedMessage> batch = List.of(message(part(client, 3)), message(part(client, 2)), message(part(client, 5)));
        HitConsumer consumer = new HitConsumer(ledger(stack.dynamo(), mode));

        assertThat(consumer.process(batch)).isEmpty();
        assertThat(consumer.process(batch)).isEmpty(); // the whole batch again, as after a lost delete
        // and the same message twice inside one delivery
        assertThat(consumer.process(List.of(batch.get(0), withNewMessageId(batch.get(0))))).isEmpty();

        assertCounted(client, 10);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void partiallyFailedBatchRetriesOnlyTheFailedMessagesAndCountsEachOnce(DynamoHitLedger.Mode mode) {
        String a = newClient(), b = newClient(), c = newClient();
        List<QueuedMessage> batch = List.of(message(part(a, 2)), message(part(b, 4)), message(part(b, 1)),
                message(part(c, 7)));
        // DynamoDB fails b's transactions in this delivery (a throttle that outlived the SDK's retries, say):
        // the whole one and both halves the ledger then tries (issue 30), so b's parts are given back. On the
        // recount path: b's first raw put fails, and b's group is given back whole.
        AtomicInteger failuresLeft = new AtomicInteger(mode == DynamoHitLedger.Mode.TRANSACTION ? 3 : 1);
        DynamoDbClient flaky = clientWith(new FailTransactions(r -> mentions(r, b), failuresLeft, false));
        HitConsumer consumer = new HitConsumer(ledger(flaky, mode));

        Set<String> failed = consumer.process(batch);

        assertThat(failed).containsExactlyInAnyOrder(batch.get(1).messageId(), batch.get(2).messageId());
        assertCounted(a, 2);
        assertCounted(b, 0);
        assertCounted(c, 7);

        // SQS redelivers the failed messages; a stray redelivery of the rest must not count twice.
        List<QueuedMessage> redelivered = batch.stream().filter(m -> failed.contains(m.messageId())).toList();
        assertThat(consumer.process(redelivered)).isEmpty();
        assertThat(consumer.process(batch)).isEmpty();
        assertCounted(a, 2);
        assertCounted(b, 5);
        assertCounted(c, 7);
        flaky.close();
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void consumerThatDiesMidBatchNeverDoubleCountsOrDrops(DynamoHitLedger.Mode mode) {
        String a = newClient(), b = newClient(), c = newClient();
        List<QueuedMessage> batch = List.of(message(part(a, 3)), message(part(b, 6)), message(part(c, 9)),
                message(part(a, 1)));
        // The first transaction commits, then the container dies before anything is acknowledged:
        // Lambda reports the whole batch failed and SQS delivers all of it again. On the recount path it dies
        // right after the first raw put, before any aggregate: the redelivery meets a replay that is not yet
        // counted, and must count it (the recount runs for replays too).
        AtomicInteger crashes = new AtomicInteger(1);
        DynamoDbClient dying = clientWith(new FailTransactions(r -> true, crashes, true));
        HitConsumer doomed = new HitConsumer(ledger(dying, mode));
        assertThatThrownBy(() -> doomed.process(batch)).isInstanceOf(ContainerCrash.class);
        dying.close();

        long committedBeforeCrash = count(a) + count(b) + count(c);
        if (mode == DynamoHitLedger.Mode.TRANSACTION) {
            assertThat(committedBeforeCrash).isIn(4L, 6L, 9L); // exactly one client's transaction landed
        } else {
            assertThat(committedBeforeCrash).as("no aggregate written before the crash").isZero();
            assertThat(rawHits(a) + rawHits(b) + rawHits(c)).as("one raw item landed").isIn(1L, 3L, 6L, 9L);
        }

        HitConsumer restarted = new HitConsumer(ledger(stack.dynamo(), mode));
        assertThat(restarted.process(batch)).isEmpty();
        assertCounted(a, 4);
        assertCounted(b, 6);
        assertCounted(c, 9);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void unreadableMessageIsReportedFailedAndTheRestIsCounted(DynamoHitLedger.Mode mode) {
        String a = newClient();
        QueuedMessage good = message(part(a, 2));
        QueuedMessage poison = new QueuedMessage(UUID.randomUUID().toString(), "{not json");
        Set<String> failed = new HitConsumer(ledger(stack.dynamo(), mode)).process(List.of(good, poison));
        assertThat(failed).containsExactly(poison.messageId());
        assertCounted(a, 2);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void largeBatchSpansSeveralTransactionsAndIsCountedExactly(DynamoHitLedger.Mode mode) {
        String a = newClient();
        List<QueuedMessage> batch = new ArrayList<>();
        for (int i = 0; i < 150; i++) batch.add(message(part(a, 1 + i % 3))); // > 100 transaction items
        long expected = batch.stream().mapToLong(m -> Json.read(m.body().getBytes(StandardCharsets.UTF_8),
                HitBatch.class).hits().size()).sum();
        HitConsumer consumer = new HitConsumer(ledger(stack.dynamo(), mode));
        assertThat(consumer.process(batch)).isEmpty();
        assertThat(consumer.process(batch.subList(40, 120))).isEmpty();
        assertCounted(a, expected);
    }

    // --- helpers -------------------------------------------------------------------------------

    private HitLedger ledger(DynamoDbClient dynamo, DynamoHitLedger.Mode mode) {
        return new DynamoHitLedger(dynamo, config.hitsTable(), config.usageTable(), keys, Duration.ofDays(config.retentionDays()),
                null, Duration.ZERO, java.time.Clock.systemUTC(), mode);
    }

    private static String newClient() {
        return "it-" + UUID.randomUUID().toString().substring(0, 12);
    }

    private static HitBatch part(String client, int hits) {
        List<HitBatch.PackedHit> packed = new ArrayList<>();
        for (int i = 0; i < hits; i++) packed.add(new HitBatch.PackedHit(NOW.toEpochMilli() - i, "10.0.0." + i, "/p/" + i));
        return new HitBatch(1, UUID.randomUUID().toString().replace("-", "").substring(0, 16), 0, 0, client, NOW, packed);
    }

    private static QueuedMessage message(HitBatch part) {
        return new QueuedMessage(UUID.randomUUID().toString(), new String(Json.write(part), StandardCharsets.UTF_8));
    }

    private static QueuedMessage withNewMessageId(QueuedMessage m) {
        return new QueuedMessage(UUID.randomUUID().toString(), m.body());
    }

    private long count(String client) {
        return new DynamoUsageStore(stack.dynamo(), config.usageTable(), keys)
                .dailyCounts(client, List.of(LocalDate.ofInstant(NOW, ZoneOffset.UTC))).values().stream()
                .mapToLong(Long::longValue).sum();
    }

    /** The daily aggregate, the hourly ranking and the raw items all agree on the number. */
    private void assertCounted(String client, long expected) {
        assertThat(count(client)).as("daily aggregate of %s", client).isEqualTo(expected);
        Map<String, Long> hourly = new DynamoUsageStore(stack.dynamo(), config.usageTable(), keys)
                .hourlyTotals(List.of(UsageKeys.hour(NOW), UsageKeys.hour(NOW.minusMillis(10))).stream().distinct().toList());
        assertThat(hourly.getOrDefault(client, 0L)).as("hourly aggregate of %s", client).isEqualTo(expected);
        assertThat(rawHits(client)).as("raw hits of %s", client).isEqualTo(expected);
    }

    private long rawHits(String client) {
        return stack.dynamo().query(q -> q.tableName(config.hitsTable()).keyConditionExpression("pk = :pk").consistentRead(true)
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(client + "#" + UsageKeys.day(NOW)))))
                .items().stream().mapToLong(i -> Long.parseLong(i.get("n").n())).sum();
    }

    /** A write of the client's: a transaction holding its raw item, its raw put, or an update of its aggregate. */
    private static boolean mentions(SdkRequest request, String client) {
        return switch (request) {
            case TransactWriteItemsRequest t -> t.transactItems().stream().anyMatch(i -> i.put() != null
                    && client.equals(i.put().item().get("client_id").s()));
            case PutItemRequest p -> p.item().containsKey("client_id") && client.equals(p.item().get("client_id").s());
            case UpdateItemRequest u -> u.key().containsKey("pk") && u.key().get("pk").s().startsWith(client + "#");
            default -> false;
        };
    }

    private DynamoDbClient clientWith(ExecutionInterceptor interceptor) {
        return DynamoDbClient.builder()
                .region(Region.of(config.region()))
                .endpointOverride(config.endpoint("dynamodb").orElseThrow())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .overrideConfiguration(o -> o.addExecutionInterceptor(interceptor))
                .build();
    }

    static final class ContainerCrash extends RuntimeException {
        ContainerCrash() {
            super("simulated container death");
        }
    }

    /**
     * Fault injection on the real client: fail matching writes (transactions, raw puts, aggregate updates)
     * before sending, or crash after one landed.
     */
    private record FailTransactions(Predicate<SdkRequest> matches, AtomicInteger remaining,
                                    boolean afterCommit) implements ExecutionInterceptor {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (!afterCommit && shouldFail(context.request())) {
                throw SdkClientException.create("injected: DynamoDB unavailable");
            }
        }

        @Override
        public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
            if (afterCommit && shouldFail(context.request())) throw new ContainerCrash();
        }

        private boolean shouldFail(SdkRequest request) {
            boolean write = request instanceof TransactWriteItemsRequest || request instanceof PutItemRequest
                    || request instanceof UpdateItemRequest;
            return write && matches.test(request) && remaining.getAndDecrement() > 0;
        }
    }

}
