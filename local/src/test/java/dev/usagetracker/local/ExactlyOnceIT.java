package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static dev.usagetracker.local.LedgerFixture.newClient;
import static dev.usagetracker.local.LedgerFixture.part;

import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitConsumer;
import dev.usagetracker.ingest.HitConsumer.QueuedMessage;
import dev.usagetracker.store.DynamoHitLedger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
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
    private LedgerFixture fixture;

    @BeforeEach
    void setUp(TestStack stack) {
        this.fixture = new LedgerFixture(stack);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void replayedBatchIsCountedOnce(DynamoHitLedger.Mode mode) {
        String client = newClient("it-");
        List<QueuedMessage> batch = List.of(message(part(client, 3)), message(part(client, 2)), message(part(client, 5)));
        HitConsumer consumer = new HitConsumer(fixture.ledger(fixture.dynamo(), mode));

        assertThat(consumer.process(batch)).isEmpty();
        assertThat(consumer.process(batch)).isEmpty(); // the whole batch again, as after a lost delete
        // and the same message twice inside one delivery
        assertThat(consumer.process(List.of(batch.get(0), withNewMessageId(batch.get(0))))).isEmpty();

        fixture.assertCounted(client, 10);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void partiallyFailedBatchRetriesOnlyTheFailedMessagesAndCountsEachOnce(DynamoHitLedger.Mode mode) {
        String a = newClient("it-"), b = newClient("it-"), c = newClient("it-");
        List<QueuedMessage> batch = List.of(message(part(a, 2)), message(part(b, 4)), message(part(b, 1)),
                message(part(c, 7)));
        // DynamoDB fails b's transactions in this delivery (a throttle that outlived the SDK's retries, say):
        // the whole one and both halves the ledger then tries (issue 30), so b's parts are given back. On the
        // recount path: b's first raw put fails, and b's group is given back whole.
        AtomicInteger failuresLeft = new AtomicInteger(mode == DynamoHitLedger.Mode.TRANSACTION ? 3 : 1);
        DynamoDbClient flaky = fixture.clientWith(new FailTransactions(r -> mentions(r, b), failuresLeft, false));
        HitConsumer consumer = new HitConsumer(fixture.ledger(flaky, mode));

        Set<String> failed = consumer.process(batch);

        assertThat(failed).containsExactlyInAnyOrder(batch.get(1).messageId(), batch.get(2).messageId());
        fixture.assertCounted(a, 2);
        fixture.assertCounted(b, 0);
        fixture.assertCounted(c, 7);

        // SQS redelivers the failed messages; a stray redelivery of the rest must not count twice.
        List<QueuedMessage> redelivered = batch.stream().filter(m -> failed.contains(m.messageId())).toList();
        assertThat(consumer.process(redelivered)).isEmpty();
        assertThat(consumer.process(batch)).isEmpty();
        fixture.assertCounted(a, 2);
        fixture.assertCounted(b, 5);
        fixture.assertCounted(c, 7);
        flaky.close();
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void consumerThatDiesMidBatchNeverDoubleCountsOrDrops(DynamoHitLedger.Mode mode) {
        String a = newClient("it-"), b = newClient("it-"), c = newClient("it-");
        List<QueuedMessage> batch = List.of(message(part(a, 3)), message(part(b, 6)), message(part(c, 9)),
                message(part(a, 1)));
        // The first transaction commits, then the container dies before anything is acknowledged:
        // Lambda reports the whole batch failed and SQS delivers all of it again. On the recount path it dies
        // right after the first raw put, before any aggregate: the redelivery meets a replay that is not yet
        // counted, and must count it (the recount runs for replays too).
        AtomicInteger crashes = new AtomicInteger(1);
        DynamoDbClient dying = fixture.clientWith(new FailTransactions(r -> true, crashes, true));
        HitConsumer doomed = new HitConsumer(fixture.ledger(dying, mode));
        assertThatThrownBy(() -> doomed.process(batch)).isInstanceOf(LedgerFixture.ContainerCrash.class);
        dying.close();

        long committedBeforeCrash = fixture.daily(a) + fixture.daily(b) + fixture.daily(c);
        if (mode == DynamoHitLedger.Mode.TRANSACTION) {
            assertThat(committedBeforeCrash).isIn(4L, 6L, 9L); // exactly one client's transaction landed
        } else {
            assertThat(committedBeforeCrash).as("no aggregate written before the crash").isZero();
            assertThat(fixture.rawHits(a) + fixture.rawHits(b) + fixture.rawHits(c)).as("one raw item landed").isIn(1L, 3L, 6L, 9L);
        }

        HitConsumer restarted = new HitConsumer(fixture.ledger(fixture.dynamo(), mode));
        assertThat(restarted.process(batch)).isEmpty();
        fixture.assertCounted(a, 4);
        fixture.assertCounted(b, 6);
        fixture.assertCounted(c, 9);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void unreadableMessageIsReportedFailedAndTheRestIsCounted(DynamoHitLedger.Mode mode) {
        String a = newClient("it-");
        QueuedMessage good = message(part(a, 2));
        QueuedMessage poison = new QueuedMessage(UUID.randomUUID().toString(), "{not json");
        Set<String> failed = new HitConsumer(fixture.ledger(fixture.dynamo(), mode)).process(List.of(good, poison));
        assertThat(failed).containsExactly(poison.messageId());
        fixture.assertCounted(a, 2);
    }

    @ParameterizedTest
    @EnumSource(DynamoHitLedger.Mode.class)
    void largeBatchSpansSeveralTransactionsAndIsCountedExactly(DynamoHitLedger.Mode mode) {
        String a = newClient("it-");
        List<QueuedMessage> batch = new ArrayList<>();
        for (int i = 0; i < 150; i++) batch.add(message(part(a, 1 + i % 3))); // > 100 transaction items
        long expected = batch.stream().mapToLong(m -> Json.read(m.body().getBytes(StandardCharsets.UTF_8),
                HitBatch.class).hits().size()).sum();
        HitConsumer consumer = new HitConsumer(fixture.ledger(fixture.dynamo(), mode));
        assertThat(consumer.process(batch)).isEmpty();
        assertThat(consumer.process(batch.subList(40, 120))).isEmpty();
        fixture.assertCounted(a, expected);
    }

    // --- helpers -------------------------------------------------------------------------------

    private static QueuedMessage message(HitBatch part) {
        return new QueuedMessage(UUID.randomUUID().toString(), new String(Json.write(part), StandardCharsets.UTF_8));
    }

    private static QueuedMessage withNewMessageId(QueuedMessage m) {
        return new QueuedMessage(UUID.randomUUID().toString(), m.body());
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
            if (afterCommit && shouldFail(context.request())) throw new LedgerFixture.ContainerCrash();
        }

        private boolean shouldFail(SdkRequest request) {
            boolean write = request instanceof TransactWriteItemsRequest || request instanceof PutItemRequest
                    || request instanceof UpdateItemRequest;
            return write && matches.test(request) && remaining.getAndDecrement() > 0;
        }
    }

}
