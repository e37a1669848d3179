package dev.usagetracker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.ingest.Deadline;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitBatch.PackedHit;
import dev.usagetracker.ingest.HitLedger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsResponse;

/**
 * Issue 30: a transaction that times out is tried again in halves, down to single parts, and no
 * transaction starts once the invocation's deadline has passed (pure logic: a DynamoDB stand-in that times
 * out every transaction above a size, as a slow store or a hot partition does).
 */
class DynamoHitLedgerSplitTest {
    private static final Instant RECEIVED = Instant.parse("2026-12-06T10:00:00Z");

    /** Times out every transaction holding more than {@code limit} raw-hit items; commits the others. */
    static final class SlowStore implements DynamoDbClient {
        final int limit;
        final List<Integer> attempted = new ArrayList<>();
        final Set<String> committedRaw = new HashSet<>();
        final AtomicLong clock;
        final long millisPerTransaction;

        SlowStore(int limit, AtomicLong clock, long millisPerTransaction) {
            this.limit = limit;
            this.clock = clock;
            this.millisPerTransaction = millisPerTransaction;
        }

        @Override
        public TransactWriteItemsResponse transactWriteItems(TransactWriteItemsRequest request) {
            clock.addAndGet(millisPerTransaction);
            List<String> raw = request.transactItems().stream().filter(i -> i.put() != null)
                    .map(i -> i.put().item().get("sk").s()).toList();
            attempted.add(raw.size());
            if (raw.size() > limit) throw ApiCallTimeoutException.create(2_000);
            committedRaw.addAll(raw);
            return TransactWriteItemsResponse.builder().build();
        }

        @Override
        public String serviceName() {
            return "dynamodb";
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aTransactionThatTimesOutIsSplitInHalvesUntilItsPartsCommit() {
        SlowStore store = new SlowStore(10, new AtomicLong(), 0);
        DynamoHitLedger ledger = new DynamoHitLedger(store, "hits", "usage", new UsageKeys(4), Duration.ofDays(30));
        List<HitBatch> parts = parts(40);

        HitLedger.Outcome outcome = ledger.record(parts);

        assertThat(outcome.committed()).hasSize(40);
        assertThat(outcome.failed()).isEmpty();
        assertThat(store.committedRaw).hasSize(40);
        // 40 timed out, then 20 + 20, then four of 10
        assertThat(store.attempted).startsWith(40, 20, 10, 10, 20, 10, 10);
        // The next batch starts with transactions the store has managed, not with 40 parts again.
        store.attempted.clear();
        assertThat(ledger.record(parts(40, "next")).committed()).hasSize(40);
        assertThat(store.attempted.getFirst()).isLessThanOrEqualTo(20);
    }

    @Test
    void aSinglePartThatStillTimesOutEndsTheBatchAndEverythingLeftIsRedelivered() {
        SlowStore store = new SlowStore(0, new AtomicLong(), 0);
        DynamoHitLedger ledger = new DynamoHitLedger(store, "hits", "usage", new UsageKeys(4), Duration.ofDays(30));

        HitLedger.Outcome outcome = ledger.record(parts(4));

        assertThat(outcome.failed()).hasSize(4);
        assertThat(outcome.committed()).isEmpty();
        // a single part timing out means the store is not answering: no further timeouts are spent
        assertThat(store.attempted).containsExactly(4, 2, 1);
    }

    @Test
    void noTransactionStartsOnceTheDeadlineHasPassedAndThePartsNotTriedAreDeferred() {
        AtomicLong elapsed = new AtomicLong();
        // each transaction takes 4 s of a 30 s invocation, with 10 s kept in reserve
        SlowStore store = new SlowStore(100, elapsed, 4_000);
        DynamoHitLedger ledger = new DynamoHitLedger(store, "hits", "usage", new UsageKeys(4), Duration.ofDays(30));
        List<HitBatch> parts = new ArrayList<>();
        for (int c = 0; c < 10; c++) parts.addAll(parts(3, "client" + c)); // ten clients: ten transactions

        HitLedger.Outcome outcome = ledger.record(parts,
                Deadline.of(() -> 30_000 - elapsed.get(), Duration.ofSeconds(10)));

        assertThat(store.attempted).hasSize(5); // started at 0, 4, 8, 12, 16 s; not at 20 s
        assertThat(outcome.committed()).hasSize(15);
        assertThat(outcome.deferred()).hasSize(15);
        assertThat(outcome.failed()).isEmpty();
        Set<String> all = new HashSet<>(outcome.committed());
        all.addAll(outcome.deferred());
        assertThat(all).hasSize(30);
    }

    private static List<HitBatch> parts(int n) {
        return parts(n, "acme");
    }

    private static List<HitBatch> parts(int n, String clientId) {
        List<HitBatch> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            parts.add(new HitBatch(1, clientId + "-batch" + i, 0, 0, clientId, RECEIVED,
                    List.of(new PackedHit(RECEIVED.toEpochMilli(), "203.0.113.7", "/a"))));
        }
        return parts;
    }
}
