package dev.usagetracker.queue;

import dev.usagetracker.http.Json;
import dev.usagetracker.webhooks.WebhookMessage;
import dev.usagetracker.webhooks.WebhookQueue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/** The webhook queue and its dead-letter queue on SQS; DelaySeconds carries the retry delays (≤ 15 min). */
public final class SqsWebhookQueue implements WebhookQueue {
    private final SqsClient sqs;
    private final String queueUrl;
    private final String deadLetterUrl;

    public SqsWebhookQueue(SqsClient sqs, String queueUrl, String deadLetterUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.deadLetterUrl = deadLetterUrl;
    }

    @Override
    public void send(List<WebhookMessage> messages, Duration delay) {
        if (queueUrl.isBlank()) throw new IllegalStateException("WEBHOOK_QUEUE_URL is not set");
        int seconds = (int) Math.min(MAX_DELAY.toSeconds(), Math.max(0, (delay.toMillis() + 999) / 1000));
        for (int from = 0; from < messages.size(); from += 10) {
            List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
            List<WebhookMessage> chunk = messages.subList(from, Math.min(messages.size(), from + 10));
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i)).delaySeconds(seconds)
                        .messageBody(new String(Json.write(chunk.get(i)), StandardCharsets.UTF_8)).build());
            }
            SendMessageBatchResponse response = sqs.sendMessageBatch(r -> r.queueUrl(queueUrl).entries(entries));
            if (response.hasFailed() && !response.failed().isEmpty()) {
                throw new IllegalStateException(response.failed().size() + " webhook message(s) not queued");
            }
        }
    }

    @Override
    public void deadLetter(WebhookMessage message) {
        sqs.sendMessage(r -> r.queueUrl(deadLetterUrl).messageBody(new String(Json.write(message), StandardCharsets.UTF_8)));
    }
}
