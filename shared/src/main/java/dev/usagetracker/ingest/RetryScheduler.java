package dev.usagetracker.ingest;

import java.util.List;

/**
 * Decides when a message that failed for a passing reason (DynamoDB unreachable or throttled) comes
 * back. Unreadable messages are not postponed: they are meant to reach the dead-letter queue quickly.
 */
public interface RetryScheduler {

    void retryLater(List<HitConsumer.QueuedMessage> messages);

    /** Messages that were not tried (the invocation's deadline came first): deliver them again soon. */
    default void returnNow(List<HitConsumer.QueuedMessage> messages) { }

    /** Leave it to the queue's visibility timeout. */
    RetryScheduler NONE = messages -> { };
}
