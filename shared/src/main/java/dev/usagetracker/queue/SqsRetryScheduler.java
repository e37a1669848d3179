package dev.usagetracker.queue;

import dev.usagetracker.ingest.HitConsumer.QueuedMessage;
import dev.usagetracker.ingest.RetryScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;

/**
 * Exponential backoff through SQS itself: a message that failed its n-th receive is hidden for
 * {@code base × 3^(n-1)} (capped, with jitter so a failed batch does not come back in step) by
 * ChangeMessageVisibility. With the defaults (30 s, 900 s cap) and the queue's maxReceiveCount of 5 a
 * message is tried at about 0 s, 30 s, 2 min, 6.5 min and 20 min before it goes to the dead-letter
 * queue: short blips cost seconds, a long outage ends in the DLQ and a redrive (scripts/redrive-dlq).
 * Best effort: if SQS cannot take the change, the visibility timeout applies, which is also safe.
 */
public final class SqsRetryScheduler implements RetryScheduler {
    private static final Logger LOG = LoggerFactory.getLogger(SqsRetryScheduler.class);
    /** SQS's maximum visibility timeout. */
    static final Duration MAX_VISIBILITY = Duration.ofHours(12);

    private final SqsClient sqs;
    private final String queueUrl;
    private final Duration base;
    private final Duration max;

    public SqsRetryScheduler(SqsClient sqs, String queueUrl, Duration base, Duration max) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.base = base;
        this.max = max.compareTo(MAX_VISIBILITY) > 0 ? MAX_VISIBILITY : max;
    }

    @Override
    public void retryLater(List<QueuedMessage> messages) {
        hide(messages, m -> (int) delay(m.receiveCount()).toSeconds());
    }

    /** Visible again at once: they were not tried, so there is nothing to back off from. */
    @Override
    public void returnNow(List<QueuedMessage> messages) {
        hide(messages, m -> 0);
    }

    private void hide(List<QueuedMessage> messages, java.util.function.ToIntFunction<QueuedMessage> seconds) {
        List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>();
        for (QueuedMessage m : messages) {
            if (m.receiptHandle() == null || m.receiptHandle().isEmpty()) continue;
            entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(entries.size()))
                    .receiptHandle(m.receiptHandle()).visibilityTimeout(seconds.applyAsInt(m)).build());
        }
        for (int i = 0; i < entries.size(); i += 10) {
            List<ChangeMessageVisibilityBatchRequestEntry> chunk = entries.subList(i, Math.min(entries.size(), i + 10));
            try {
                var response = sqs.changeMessageVisibilityBatch(r -> r.queueUrl(queueUrl).entries(chunk));
                if (response.hasFailed() && !response.failed().isEmpty()) {
                    LOG.warn("{} retry delay(s) not set; those messages return after the visibility timeout",
                            response.failed().size());
                }
            } catch (SdkException e) {
                LOG.warn("retry delays not set ({}); messages return after the visibility timeout", e.getClass().getSimpleName());
            }
        }
    }

    /** The delay before delivery n+1, jittered within [d/2, d]. */
    Duration delay(int receiveCount) {
        int n = Math.max(1, Math.min(receiveCount, 20));
        double d = Math.min(max.toMillis(), base.toMillis() * Math.pow(3, n - 1));
        long jittered = (long) ThreadLocalRandom.current().nextDouble(d / 2, d + 1);
        return Duration.ofSeconds(Math.max(1, Math.round(jittered / 1000.0)));
    }
}
