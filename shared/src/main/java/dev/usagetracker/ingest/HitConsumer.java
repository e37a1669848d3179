package dev.usagetracker.ingest;

import dev.usagetracker.http.Json;
import dev.usagetracker.observability.Metrics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
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

    /** At most this many correlation ids go into a batch's log line; the count is always there. */
    static final int MAX_LOGGED_CORRELATION_IDS = 50;

    private final HitLedger ledger;
    private final Clock clock;
    private final RetryScheduler retries;
    /** Kept back from the invocation's remaining time: one transaction at its longest, then the after-commit work. */
    private final Duration reserve;
    static final Duration DEFAULT_RESERVE = Duration.ofSeconds(10);

    /**
     * A delivered message; {@code correlationId} is the ingest request's id (SQS message attribute), or
     * null; the receipt handle and receive count let a retry be scheduled with backoff.
     */
    public record QueuedMessage(String messageId, String body, String correlationId, String receiptHandle, int receiveCount) {
        public QueuedMessage(String messageId, String body, String correlationId) {
            this(messageId, body, correlationId, "", 1);
        }

        public QueuedMessage(String messageId, String body) {
            this(messageId, body, null);
        }
    }

    public HitConsumer(HitLedger ledger) {
        this(ledger, Clock.systemUTC(), RetryScheduler.NONE);
    }

    public HitConsumer(HitLedger ledger, Clock clock) {
        this(ledger, clock, RetryScheduler.NONE);
    }

    public HitConsumer(HitLedger ledger, Clock clock, RetryScheduler retries) {
        this(ledger, clock, retries, CommitObserver.NONE);
    }

    /** {@code observer} hears of each batch before its transactions and of exactly what they committed after. */
    public HitConsumer(HitLedger ledger, Clock clock, RetryScheduler retries, CommitObserver observer) {
        this(ledger, clock, retries, observer, DEFAULT_RESERVE);
    }

    /**
     * {@code reserve}: no transaction starts with less than this left of the invocation (the longest a
     * transaction may take, its SDK call timeout, plus the after-commit work and the report).
     */
    public HitConsumer(HitLedger ledger, Clock clock, RetryScheduler retries, CommitObserver observer, Duration reserve) {
        this.reserve = reserve;
        this.ledger = new ObservedLedger(ledger, observer); // the same path as the ingest's SQS-down fallback
        this.clock = clock;
        this.retries = retries;
    }

    /** Returns the ids of the messages that were not recorded. */
    public Set<String> process(List<QueuedMessage> messages) {
        return process(messages, Deadline.NONE);
    }

    /** Within an invocation that has {@code remainingMillis} left (Lambda's Context.getRemainingTimeInMillis). */
    public Set<String> process(List<QueuedMessage> messages, java.util.function.LongSupplier remainingMillis) {
        return process(messages, Deadline.of(remainingMillis, reserve));
    }

    /**
     * As {@link #process(List)}, starting no transaction past {@code deadline}: the messages not tried go
     * back to the queue at once, and what was committed reaches the mirrors and the alert check before
     * the invocation ends. Messages delivered before go first, so a message left over from one
     * invocation is among the first of the next (and does not drift to the dead-letter queue).
     */
    public Set<String> process(List<QueuedMessage> messages, Deadline deadline) {
        messages = messages.stream()
                .sorted(java.util.Comparator.comparingInt(QueuedMessage::receiveCount).reversed()).toList();
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
                LOG.atError().addKeyValue("message_id", message.messageId())
                        .addKeyValue("correlation_id", message.correlationId())
                        .log("unreadable hit message; leaving it for redrive to the dead-letter queue");
                failed.add(message.messageId());
            }
        }
        Metrics metrics = Metrics.begin().count(Metrics.CONSUMER_BATCH_SIZE, messages.size());
        long hits = 0;
        long lagMillis = 0;
        List<QueuedMessage> transientFailures = new ArrayList<>();
        List<QueuedMessage> deferred = new ArrayList<>();
        if (!parts.isEmpty()) {
            HitLedger.Outcome outcome = ledger.record(parts, deadline);
            long now = clock.millis();
            for (int i = 0; i < parts.size(); i++) {
                HitBatch part = parts.get(i);
                if (outcome.failed().contains(part.key())) {
                    failed.add(partMessages.get(i).messageId());
                    transientFailures.add(partMessages.get(i));
                } else if (outcome.deferred().contains(part.key())) {
                    failed.add(partMessages.get(i).messageId());
                    deferred.add(partMessages.get(i));
                }
                if (outcome.committed().contains(part.key())) hits += part.hits().size();
                lagMillis = Math.max(lagMillis, now - part.receivedAt().toEpochMilli());
            }
            metrics.count(Metrics.HITS_RECORDED, hits).count(Metrics.DUPLICATES_DROPPED, outcome.duplicates().size())
                    .millis(Metrics.CONSUMER_LAG, lagMillis);
        }
        // Unreadable messages are not postponed: they should reach the dead-letter queue quickly.
        if (!transientFailures.isEmpty()) retries.retryLater(transientFailures);
        if (!deferred.isEmpty()) {
            retries.returnNow(deferred);
            LOG.info("invocation deadline near: {} message(s) not tried, back to the queue", deferred.size());
        }
        metrics.count(Metrics.MESSAGES_FAILED, failed.size()).flush();
        List<String> correlationIds = messages.stream().map(QueuedMessage::correlationId)
                .filter(java.util.Objects::nonNull).distinct().limit(MAX_LOGGED_CORRELATION_IDS).toList();
        LOG.atInfo().addKeyValue("messages", messages.size()).addKeyValue("hits_recorded", hits)
                .addKeyValue("failed", failed.size()).addKeyValue("lag_ms", lagMillis)
                .addKeyValue("correlation_ids", correlationIds)
                .log(failed.isEmpty() ? "hit batch recorded" : "hit batch partly recorded; SQS will deliver the rest again");
        return failed;
    }
}
