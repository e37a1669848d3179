package dev.usagetracker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ObservedLedgerTest {
    static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");
    final List<List<HitBatch>> committed = new ArrayList<>();
    final List<List<HitBatch>> replayed = new ArrayList<>();
    final CommitObserver observer = parts -> new CommitObserver.AfterCommit() {
        @Override
        public void committed(List<HitBatch> parts) {
            committed.add(parts);
        }

        @Override
        public void replayed(List<HitBatch> parts) {
            replayed.add(parts);
        }
    };

    @Test
    void partsTheLedgerFoundCommittedAlreadyReachTheObserverAsReplays() {
        HitBatch fresh = part("fresh");
        HitBatch replay = part("replay");
        HitBatch failed = part("failed");
        HitLedger ledger = parts -> new HitLedger.Outcome(keys(fresh), keys(replay), keys(failed));

        new ObservedLedger(ledger, observer).record(List.of(fresh, replay, failed));

        assertThat(committed).containsExactly(List.of(fresh));
        assertThat(replayed).containsExactly(List.of(replay));
    }

    @Test
    void withoutReplaysTheObserverHearsOnlyOfTheCommit() {
        HitBatch fresh = part("fresh");
        new ObservedLedger(parts -> new HitLedger.Outcome(keys(fresh), Set.of(), Set.of()), observer).record(List.of(fresh));

        assertThat(committed).containsExactly(List.of(fresh));
        assertThat(replayed).isEmpty();
    }

    @Test
    void aLedgerThatThrowsReplaysNothing() {
        HitLedger broken = parts -> {
            throw new IllegalStateException("store down");
        };
        assertThatThrownBy(() -> new ObservedLedger(broken, observer).record(List.of(part("any"))))
                .isInstanceOf(IllegalStateException.class);
        assertThat(committed).containsExactly(List.of());
        assertThat(replayed).isEmpty();
    }

    @Test
    void anObserverThatOnlyHearsCommitsIgnoresReplays() {
        List<HitBatch> heard = new ArrayList<>();
        HitBatch replay = part("replay");
        new ObservedLedger(parts -> new HitLedger.Outcome(Set.of(), keys(replay), Set.of()),
                parts -> heard::addAll).record(List.of(replay));
        assertThat(heard).isEmpty();
    }

    static HitBatch part(String batchId) {
        return new HitBatch(1, batchId, 0, 0, "acme", NOW, List.of(new HitBatch.PackedHit(NOW.toEpochMilli(), "192.0.2.1", "/x")));
    }

    static Set<String> keys(HitBatch... parts) {
        Set<String> keys = new LinkedHashSet<>();
        for (HitBatch p : parts) keys.add(p.key());
        return keys;
    }
}
