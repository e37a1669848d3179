package dev.usagetracker.ingest;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger as every writer of hits uses it: the consumer and the ingest's SQS-down fallback alike, so
 * the mirrors (monthly and endpoint mirrors, Redis counters) and the alert detector hear of exactly what
 * either committed, through this one path. The observer never fails a write: the hits are durable and
 * counted in DynamoDB, and mirrors catch up by reconciliation.
 */
public final class ObservedLedger implements HitLedger {
    private static final Logger LOG = LoggerFactory.getLogger(ObservedLedger.class);

    private final HitLedger ledger;
    private final CommitObserver observer;

    public ObservedLedger(HitLedger ledger, CommitObserver observer) {
        this.ledger = ledger;
        this.observer = observer;
    }

    @Override
    public Outcome record(List<HitBatch> parts) {
        return record(parts, Deadline.NONE);
    }

    @Override
    public Outcome record(List<HitBatch> parts, Deadline deadline) {
        CommitObserver.AfterCommit after = beforeCommit(parts);
        Outcome outcome = null;
        try {
            outcome = ledger.record(parts, deadline);
            return outcome;
        } finally {
            // Also when the ledger threw: what was announced as in flight is released (nothing committed).
            afterCommit(after, parts, outcome);
        }
    }

    private CommitObserver.AfterCommit beforeCommit(List<HitBatch> parts) {
        try {
            return observer.beforeCommit(parts);
        } catch (RuntimeException e) {
            LOG.warn("before-commit work failed ({}); mirrors will not hear of this batch", e.getClass().getSimpleName());
            return committed -> { };
        }
    }

    private void afterCommit(CommitObserver.AfterCommit after, List<HitBatch> parts, Outcome outcome) {
        List<HitBatch> committed = new ArrayList<>();
        List<HitBatch> replayed = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (HitBatch part : parts) {
            if (outcome == null || !seen.add(part.key())) continue;
            if (outcome.committed().contains(part.key())) committed.add(part);
            else if (outcome.duplicates().contains(part.key())) replayed.add(part);
        }
        try {
            after.committed(committed);
        } catch (RuntimeException e) {
            LOG.warn("after-commit work failed ({}); the counted hits stand", e.getClass().getSimpleName());
        }
        if (replayed.isEmpty()) return;
        try {
            after.replayed(replayed);
        } catch (RuntimeException e) {
            LOG.warn("after-replay work failed ({}); nothing was counted again", e.getClass().getSimpleName());
        }
    }
}
