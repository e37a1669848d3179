package dev.usagetracker.queue;

import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ListMessageMoveTasksResultEntry;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Moves the dead-letter queue's messages back to the hits queue with SQS's own redrive
 * (StartMessageMoveTask, what the console's "Start DLQ redrive" does), and waits for it to finish.
 * Safe to run at any time and more than once: a message that had in fact been counted before it
 * was dead-lettered is dropped by the ledger as a duplicate, so redriven hits are counted once.
 */
public final class DeadLetterRedrive {
    private final SqsClient sqs;

    public record Result(String status, long moved, long toMove, Optional<String> failureReason) {}

    public DeadLetterRedrive(SqsClient sqs) {
        this.sqs = sqs;
    }

    public Result redrive(String deadLetterQueueUrl, String queueUrl, Duration timeout) {
        String source = arn(deadLetterQueueUrl);
        String destination = arn(queueUrl);
        sqs.startMessageMoveTask(r -> r.sourceArn(source).destinationArn(destination));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            // Most recent first, and only a running task has a handle: the first entry is the one just started.
            Optional<ListMessageMoveTasksResultEntry> task = sqs.listMessageMoveTasks(r -> r.sourceArn(source).maxResults(1))
                    .results().stream().findFirst();
            if (task.isPresent() && !"RUNNING".equals(task.get().status())) {
                ListMessageMoveTasksResultEntry t = task.get();
                return new Result(t.status(), orZero(t.approximateNumberOfMessagesMoved()),
                        orZero(t.approximateNumberOfMessagesToMove()), Optional.ofNullable(t.failureReason()));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the redrive task did not finish within " + timeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    public long depth(String queueUrl) {
        return Long.parseLong(sqs.getQueueAttributes(r -> r.queueUrl(queueUrl)
                .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes()
                .getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0"));
    }

    private String arn(String queueUrl) {
        return sqs.getQueueAttributes(r -> r.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
    }

    private static long orZero(Long n) {
        return n == null ? 0 : n;
    }
}
