package dev.usagetracker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitBatch.PackedHit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How {@link DynamoHitLedger#chunks} groups one client's parts into transactions (no DynamoDB involved). */
class DynamoHitLedgerChunkTest {
    /** DynamoDB's limits per TransactWriteItems call. */
    private static final int MAX_ITEMS = 100;
    private static final int MAX_BYTES = 4 * 1024 * 1024;
    private static final Instant RECEIVED = Instant.parse("2026-01-31T12:00:00Z");

    private final DynamoHitLedger ledger =
            new DynamoHitLedger(null, "hits", "usage", new UsageKeys(4), Duration.ofDays(30));

    @Test
    void putsPartsThatFitIntoOneTransaction() {
        List<HitBatch> parts = new ArrayList<>();
        for (int i = 0; i < 10; i++) parts.add(part(i, List.of(RECEIVED.minusSeconds(i)), "/a"));

        assertThat(ledger.chunks(parts)).containsExactly(parts);
    }

    @Test
    void fillsATransactionToExactlyOneHundredItems() {
        List<HitBatch> parts = new ArrayList<>();
        for (int i = 0; i < 98; i++) parts.add(part(i, List.of(RECEIVED), "/a")); // 98 raw + 1 day + 1 hour

        List<List<HitBatch>> chunks = ledger.chunks(parts);

        assertThat(chunks).hasSize(1);
        assertThat(items(chunks.getFirst())).isEqualTo(MAX_ITEMS);
    }

    @Test
    void splitsBeforeTheHundredAndFirstItem() {
        List<HitBatch> parts = new ArrayList<>();
        for (int i = 0; i < 99; i++) parts.add(part(i, List.of(RECEIVED), "/a"));

        List<List<HitBatch>> chunks = ledger.chunks(parts);

        assertThat(chunks).hasSize(2);
        assertWithinLimits(chunks, parts);
    }

    @Test
    void countsEveryDistinctDayAndHourTouched() {
        List<HitBatch> parts = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            parts.add(part(i, List.of(RECEIVED.minus(Duration.ofHours(i))), "/a")); // 1 raw + 1 new hour each
        }

        assertWithinLimits(ledger.chunks(parts), parts);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void neverExceedsTheLimitsForRandomGroups(long seed) {
        Random random = new Random(seed);
        List<HitBatch> parts = new ArrayList<>();
        int count = 1 + random.nextInt(300);
        for (int i = 0; i < count; i++) {
            List<Instant> times = new ArrayList<>();
            int hits = 1 + random.nextInt(12);
            for (int h = 0; h < hits; h++) {
                times.add(RECEIVED.minus(Duration.ofMinutes(random.nextInt(3 * 24 * 60))));
            }
            parts.add(part(i, times, "/a"));
        }

        assertWithinLimits(ledger.chunks(parts), parts);
    }

    @Test
    void splitsPartsWhoseRawItemsWouldExceedTheTransactionSize() {
        String longPath = "/" + "\u20ac".repeat(2000); // 3 bytes per character in UTF-8
        List<HitBatch> parts = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            parts.add(part(i, Collections.nCopies(30, RECEIVED), longPath)); // ~180 KB each (SQS-sized), ~7 MB in all
        }

        List<List<HitBatch>> chunks = ledger.chunks(parts);

        assertThat(chunks).hasSizeGreaterThan(1);
        assertWithinLimits(chunks, parts);
    }

    // --- helpers --------------------------------------------------------------------------------

    private static HitBatch part(int index, List<Instant> hitTimes, String endpoint) {
        List<PackedHit> hits = hitTimes.stream().map(t -> new PackedHit(t.toEpochMilli(), "203.0.113.7", endpoint)).toList();
        return new HitBatch(1, "batch" + index, 0, 0, "acme", RECEIVED, hits);
    }

    /** Items of one transaction: a raw item per part plus one update per distinct day and hour aggregate. */
    private static int items(List<HitBatch> chunk) {
        Set<String> aggregates = new HashSet<>();
        for (HitBatch part : chunk) {
            for (PackedHit hit : part.hits()) {
                aggregates.add("day " + UsageKeys.day(hit.timestamp()));
                aggregates.add("hour " + UsageKeys.hour(hit.timestamp()));
            }
        }
        return chunk.size() + aggregates.size();
    }

    private static long rawBytes(List<HitBatch> chunk) {
        return chunk.stream().mapToLong(p -> Json.write(p.hits()).length).sum();
    }

    private static void assertWithinLimits(List<List<HitBatch>> chunks, List<HitBatch> parts) {
        assertThat(chunks.stream().flatMap(List::stream).toList())
                .as("every part exactly once, in order")
                .containsExactlyElementsOf(parts);
        for (List<HitBatch> chunk : chunks) {
            assertThat(chunk).isNotEmpty();
            assertThat(items(chunk)).as("items in one transaction").isLessThanOrEqualTo(MAX_ITEMS);
            assertThat(rawBytes(chunk)).as("raw hit bytes in one transaction").isLessThan(MAX_BYTES);
        }
    }
}
