package dev.usagetracker.ingest;

import java.util.List;
import java.util.Set;

/**
 * The system of record for hits: writes raw hits and their aggregates exactly once per batch part,
 * however often the same part is offered.
 */
public interface HitLedger {

    /** Keys ({@link HitBatch#key()}) of the parts whose write did not happen and must be offered again. */
    record Outcome(Set<String> committed, Set<String> duplicates, Set<String> failed) {}

    Outcome record(List<HitBatch> parts);
}
