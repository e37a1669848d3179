package dev.usagetracker.ingest;

import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a batch of queue messages into ledger writes and reports the messages to deliver again.
 * Duplicates count as done: the ledger already holds them. A message that cannot be read is
 * reported failed, so SQS retries it and finally moves it to the dead-letter queue for a human.
 */
public final class HitConsumer {
    private static final Logger LOG = LoggerFactory.getLogger(HitConsumer.class);

    private final HitLedger ledger;
    private final RetryScheduler retries;

    /** A delivered message; the receipt handle and receive count let a retry be scheduled with backoff. */
    public record QueuedMessage(String messageId, String body, String receiptHandle, int receiveCount) {
        public QueuedMessage(String messageId, String body) {
            this(messageId, body, "", 1);
        }
    }

    public HitConsumer(HitLedger ledger) {
        this(ledger, RetryScheduler.NONE);
    }

    public HitConsumer(HitLedger ledger, RetryScheduler retries) {
        this.ledger = ledger;
        this.retries = retries;
    }

    /** Returns the ids of the messages that were not recorded. */
    public Set<String> process(List<QueuedMessage> messages) {
        Set<String> failed = new LinkedHashSet<>();
        List<HitBatch> parts = new ArrayList<>();
        List<QueuedMessage> partMessages = new ArrayList<>();
        for (QueuedMessage message : messages) {
            try {
                HitBatch part = Json.read(message.body().getBytes(StandardCharsets.UTF_8), HitBatch.class);
                if (part.batchId() == null || part.clientId() == null || part.hits() == null || part.receivedAt() == null) {
                    throw new IllegalArgumentException("incomplete hit batch");
                }
                parts.add(part);
                partMessages.add(message);
            } catch (IllegalArgumentException e) {
                LOG.error("unreadable hit message {}; leaving it for redrive to the dead-letter queue", message.messageId());
                failed.add(message.messageId());
            }
        }
        if (parts.isEmpty()) return failed;
        HitLedger.Outcome outcome = ledger.record(parts);
        List<QueuedMessage> transientFailures = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            if (outcome.failed().contains(parts.get(i).key())) {
                failed.add(partMessages.get(i).messageId());
                transientFailures.add(partMessages.get(i));
            }
        }
        if (!failed.isEmpty()) {
            LOG.warn("{} of {} hit messages not recorded; SQS will deliver them again", failed.size(), messages.size());
        }
        if (!transientFailures.isEmpty()) retries.retryLater(transientFailures);
        return failed;
    }
}
