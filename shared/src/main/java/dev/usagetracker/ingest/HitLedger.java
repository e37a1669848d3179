package dev.usagetracker.ingest;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The system of record for hits: writes raw hits and their aggregates exactly once per batch part,
 * however often the same part is offered.
 */
public interface HitLedger {

    /**
     * Keys ({@link HitBatch#key()}) of the parts committed, found to be duplicates, whose write did not
     * happen and must be offered again ({@code failed}), and that were not tried because the deadline
     * came first ({@code deferred}: offer them again soon, nothing went wrong with them).
     */
    record Outcome(Set<String> committed, Set<String> duplicates, Set<String> failed, Set<String> deferred) {
        public Outcome(Set<String> committed, Set<String> duplicates, Set<String> failed) {
            this(committed, duplicates, failed, new LinkedHashSet<>());
        }
    }

    Outcome record(List<HitBatch> parts);

    /** Starts no transaction once {@code deadline} no longer allows it; the parts left are {@code deferred}. */
    default Outcome record(List<HitBatch> parts, Deadline deadline) {
        return record(parts);
    }
}
