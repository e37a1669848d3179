package dev.usagetracker.local;

import static dev.usagetracker.local.LedgerFixture.NOW;
import static dev.usagetracker.local.LedgerFixture.newClient;
import static dev.usagetracker.local.LedgerFixture.part;
import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitLedger;
import dev.usagetracker.store.DynamoHitLedger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.threeten.extra.MutableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * The interleavings that matter for the ledger's recount path (issue 28), on moto_server: another writer
 * (a transaction's ADD, or another recount) landing between a recount's read of the aggregate and its
 * write; many consumers of one client-day at once, across the light/heavy threshold (so recounts and
 * transactional ADDs mix on the same items); a client marked erasing between the raw put and the
 * aggregate write. Each asserts daily, hourly and raw hits agree.
 */
@ExtendWith(TestStack.Extension.class)
class RecountLedgerIT {
    private LedgerFixture fixture;

    @BeforeEach
    void setUp(TestStack stack) {
        this.fixture = new LedgerFixture(stack);
    }

    /**
     * A's aggregates are read, its raw item put and counted (3), then — before A writes — B commits a part of
     * the same client: a transaction with ADDs (as a heavy group would), or another recount. A's
     * compare-and-set must fail (the value moved) and its next round must account for both. A max-wins
     * write ({@code count < 3}) would have overwritten B's ADD of 2 with A's 3 and lost B's hits.
     */
    @Test
    void aTransactionLandingBetweenARecountsReadAndItsWriteIsNotLost() {
        for (DynamoHitLedger.Mode other : DynamoHitLedger.Mode.values()) {
            String client = newClient("rc-");
            HitLedger b = fixture.ledger(fixture.dynamo(), other);
            AtomicBoolean fired = new AtomicBoolean();
            HitBatch bPart = part(client, 2);
            DynamoDbClient hooked = fixture.clientWith(new Before(UpdateItemRequest.class, q -> {
                if (fired.compareAndSet(false, true)) assertThat(b.record(List.of(bPart)).committed()).containsExactly(bPart.key());
            }));
            HitBatch aPart = part(client, 3);
            var outcome = fixture.ledger(hooked, DynamoHitLedger.Mode.RECOUNT).record(List.of(aPart));
            assertThat(fired).as("B ran inside A's recount").isTrue();
            assertThat(outcome.committed()).containsExactly(aPart.key());
            fixture.assertCounted(client, 5);
            hooked.close();
        }
    }

    /**
     * The consumer dies after its raw put, before any aggregate; meanwhile another consumer counts a later
     * part of the same client (its recount sees the orphan and counts it too); then the first part is
     * redelivered: a replay, which recounts and changes nothing. Each hit once.
     */
    @Test
    void aReplayAfterTheRawPutButBeforeTheAggregatesIsCountedOnceWhoeverCountsFirst() {
        String client = newClient("rc-");
        HitBatch first = part(client, 4);
        DynamoDbClient dying = fixture.clientWith(new Before(QueryRequest.class, q -> {
            throw new LedgerFixture.ContainerCrash();
        }));
        try {
            fixture.ledger(dying, DynamoHitLedger.Mode.RECOUNT).record(List.of(first));
        } catch (LedgerFixture.ContainerCrash expected) {
            // the container died between the raw put and the recount
        }
        dying.close();
        assertThat(fixture.rawHits(client)).isEqualTo(4);
        assertThat(fixture.daily(client)).isZero();

        HitBatch second = part(client, 1);
        assertThat(fixture.ledger(fixture.dynamo(), DynamoHitLedger.Mode.RECOUNT).record(List.of(second)).committed())
                .containsExactly(second.key());
        fixture.assertCounted(client, 5); // the orphan raw item is counted by whoever counts next

        var replay = fixture.ledger(fixture.dynamo(), DynamoHitLedger.Mode.RECOUNT).record(List.of(first));
        assertThat(replay.duplicates()).containsExactly(first.key());
        assertThat(replay.failed()).isEmpty();
        fixture.assertCounted(client, 5);
    }

    /**
     * Four consumers, each its own ledger (two recounting, two transactional), write parts of one client at
     * once, and redeliver some: the day crosses the light threshold on the way, so recounts and ADDs race on
     * the same daily and hourly items.
     */
    @Test
    void concurrentConsumersOfOneClientDayMixingRecountsAndTransactionsCountEachHitOnce() throws Exception {
        String client = newClient("rc-");
        AtomicLong expected = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            DynamoHitLedger.Mode mode = t % 2 == 0 ? DynamoHitLedger.Mode.RECOUNT : DynamoHitLedger.Mode.TRANSACTION;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    HitLedger ledger = fixture.ledger(fixture.dynamo(), mode);
                    for (int i = 0; i < 8; i++) {
                        List<HitBatch> parts = List.of(part(client, 1 + i % 3), part(client, 1));
                        var outcome = ledger.record(parts);
                        for (int round = 0; !outcome.failed().isEmpty() && round < 5; round++) {
                            List<HitBatch> again = parts.stream().filter(p -> outcome.failed().contains(p.key())).toList();
                            var retried = ledger.record(again);
                            outcome.failed().retainAll(retried.failed());
                        }
                        assertThat(outcome.failed()).isEmpty();
                        expected.addAndGet(parts.stream().mapToLong(p -> p.hits().size()).sum());
                        // a stray redelivery of the same parts
                        var replay = ledger.record(parts);
                        assertThat(replay.committed()).isEmpty();
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertThat(errors).isEmpty();
        assertThat(expected.get()).as("beyond the light threshold").isGreaterThan(64);
        fixture.assertCounted(client, expected.get());
    }

    /**
     * The client is marked erasing after the batch's row read and the raw put, and the row has aged past the
     * bounded guard's window before the aggregate write: the row is read again, the part dropped (reported
     * done, never retried), no aggregate written — nothing names the client that the sweep could miss.
     */
    @Test
    void aClientMarkedErasingBeforeTheAggregateWriteGetsNoAggregate() {
        String client = newClient("rc-");
        fixture.dynamo().putItem(r -> r.tableName(fixture.config().clientsTable()).item(Map.of(
                "client_id", AttributeValue.fromS(client), "name", AttributeValue.fromS("recount erasure"),
                "created_ms", AttributeValue.fromN(Long.toString(NOW.minusSeconds(3600).toEpochMilli())))));
        MutableClock clock = MutableClock.of(Instant.now(), ZoneOffset.UTC);
        DynamoDbClient hooked = fixture.clientWith(new Before(QueryRequest.class, q -> {
            fixture.dynamo().updateItem(u -> u.tableName(fixture.config().clientsTable())
                    .key(Map.of("client_id", AttributeValue.fromS(client)))
                    .updateExpression("SET #st = :e").expressionAttributeNames(Map.of("#st", "status"))
                    .expressionAttributeValues(Map.of(":e", AttributeValue.fromS("erasing"))));
            clock.add(Duration.ofSeconds(6));
        }));
        var ledger = new DynamoHitLedger(hooked, fixture.config().hitsTable(), fixture.config().usageTable(), fixture.keys(),
                Duration.ofDays(fixture.config().retentionDays()), fixture.config().clientsTable(), Duration.ofSeconds(5), clock,
                DynamoHitLedger.Mode.RECOUNT);
        HitBatch part = part(client, 2);
        var outcome = ledger.record(List.of(part));
        assertThat(outcome.committed()).isEmpty();
        assertThat(outcome.failed()).isEmpty();
        assertThat(outcome.duplicates()).containsExactly(part.key());
        assertThat(fixture.daily(client)).isZero();
        assertThat(fixture.hourly(client)).isZero();
        hooked.close();
    }

    // --- helpers -------------------------------------------------------------------------------

    /**
     * Runs {@code action} before each request of a type: before a Query is between a recount's read and its
     * count, before an UpdateItem between its count and its write.
     */
    private record Before(Class<?> type, Consumer<Object> action) implements ExecutionInterceptor {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (type.isInstance(context.request())) action.accept(context.request());
        }
    }
}
