package dev.usagetracker.ingest;

import java.util.List;

/**
 * What the consumer tells the mirrors of its commits (Redis counters, alerts) around each batch: a mirror
 * that rebuilds itself from DynamoDB must know which commits are in flight, or it may count one twice.
 */
@FunctionalInterface
public interface CommitObserver {
    CommitObserver NONE = parts -> committed -> { };

    /**
     * Called before the transactions of {@code parts}; the step it returns is called after them with
     * exactly the parts they committed (not duplicates, not failures), whatever happened in between.
     */
    AfterCommit beforeCommit(List<HitBatch> parts);

    @FunctionalInterface
    interface AfterCommit {
        void committed(List<HitBatch> committed);

        /**
         * The parts the ledger found committed already (replays): the writer that committed them may have
         * died, or met a timeout, before it told the mirrors. Nothing is counted again; a mirror that cannot
         * tell whether it heard of them (the response cache) refreshes what they touch.
         */
        default void replayed(List<HitBatch> replayed) {
        }
    }
}
