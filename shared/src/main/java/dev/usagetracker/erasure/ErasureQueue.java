package dev.usagetracker.erasure;

/** Where an erasure request waits for the erasure function (an SQS queue with a dead-letter queue). */
public interface ErasureQueue {
    /**
     * Queues the erasure of a client whose row already says {@code status=erasing}; it is delivered
     * only after {@code delaySeconds}, so requests that authenticated just before the erasure have
     * finished (their idempotency items, queued hits and mirrors written) when the erasure runs.
     */
    void enqueue(String clientId, int delaySeconds);
}
