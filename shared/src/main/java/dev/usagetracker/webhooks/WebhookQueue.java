package dev.usagetracker.webhooks;

import java.time.Duration;
import java.util.List;

/** The webhook queue: delivery never runs on the consumer's or a request's path, only here. */
public interface WebhookQueue {
    /** Delays above the queue's maximum (15 min on SQS) are the caller's to split. */
    void send(List<WebhookMessage> messages, Duration delay);

    /** An attempt that used up the retry schedule, kept for an operator. */
    void deadLetter(WebhookMessage message);

    Duration MAX_DELAY = Duration.ofMinutes(15);
}
