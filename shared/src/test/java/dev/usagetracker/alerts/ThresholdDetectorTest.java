package dev.usagetracker.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.ingest.HitBatch;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ThresholdDetectorTest {
    static final Instant NOW = Instant.parse("2026-11-26T10:00:00Z");
    static final YearMonth MONTH = YearMonth.of(2026, 11);

    final Map<String, Long> table = new ConcurrentHashMap<>();
    final AtomicInteger reads = new AtomicInteger();
    final Set<String> claimed = ConcurrentHashMap.newKeySet();
    final List<ThresholdAlert> raised = new ArrayList<>();
    final MonthlyUsage usage = (client, month) -> {
        reads.incrementAndGet();
        return new MonthlyUsage.Count(table.getOrDefault(client + "|" + month, 0L), 0);
    };
    final ThresholdClaims claims = (client, month, percent, used, at) -> claimed.add(client + "|" + month + "|" + percent);
    final AlertSink sink = (id, alert, at) -> raised.add(alert);

    ThresholdDetector detector(Long quota, List<Integer> thresholds) {
        return new ThresholdDetector(c -> new AlertPolicy.Quota(quota, thresholds), usage, claims, sink, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** Commits n hits for the client (as the ledger would) and returns the committed part. */
    HitBatch commit(String client, int n) {
        List<HitBatch.PackedHit> hits = new ArrayList<>();
        for (int i = 0; i < n; i++) hits.add(new HitBatch.PackedHit(NOW.toEpochMilli(), "203.0.113.1", "/x"));
        table.merge(client + "|" + MONTH, (long) n, Long::sum);
        return new HitBatch(1, "b" + System.nanoTime(), 0, 0, client, NOW, hits);
    }

    @Test
    void eachThresholdIsRaisedOnceWhicheverBatchCrossesIt() {
        ThresholdDetector d = detector(100L, List.of(50, 100));
        d.committed(List.of(commit("a", 49)));
        assertThat(raised).isEmpty();
        var crossings = d.committed(List.of(commit("a", 1)));
        assertThat(crossings.getFirst().before()).isEqualTo(49);
        assertThat(crossings.getFirst().after()).isEqualTo(50);
        assertThat(raised).extracting(ThresholdAlert::threshold).containsExactly(50);
        d.committed(List.of(commit("a", 30)));
        // another container that did not see the first claim loses the conditional write: no second event
        ThresholdDetector other = detector(100L, List.of(50, 100));
        other.committed(List.of(commit("a", 25)));
        assertThat(raised).extracting(ThresholdAlert::threshold).containsExactly(50, 100);
        assertThat(raised.get(1).used()).isEqualTo(105);
        assertThat(raised.get(1).period()).isEqualTo("2026-11");
    }

    @Test
    void aClaimLostBetweenCommitAndClaimIsCaughtUpOnTheNextCommit() {
        table.put("b|" + MONTH, 60L); // committed earlier by a consumer that died before claiming
        detector(100L, List.of(50, 100)).committed(List.of(commit("b", 1)));
        assertThat(raised).extracting(ThresholdAlert::threshold).containsExactly(50);
    }

    @Test
    void noQuotaMeansNoReadsAndOnceAllAreClaimedTheMonthIsNotReadAgain() {
        detector(null, List.of(80, 100)).committed(List.of(commit("c", 500)));
        assertThat(reads.get()).isZero();
        ThresholdDetector d = detector(10L, List.of(100));
        d.committed(List.of(commit("c", 1)));
        assertThat(raised).hasSize(1);
        int before = reads.get();
        d.committed(List.of(commit("c", 1)));
        assertThat(reads.get()).isEqualTo(before);
        assertThat(new HashSet<>(claimed)).containsExactly("c|2026-11|100");
    }
}
