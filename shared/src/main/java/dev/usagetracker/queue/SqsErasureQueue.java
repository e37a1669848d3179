package dev.usagetracker.queue;

import dev.usagetracker.erasure.ErasureQueue;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;

/** The erasure queue: one message {@code {"client_id":…}} per requested erasure, delayed. */
public final class SqsErasureQueue implements ErasureQueue {
    private final SqsClient sqs;
    private final String queueUrl;

    public SqsErasureQueue(SqsClient sqs, String queueUrl) {
        if (queueUrl == null || queueUrl.isBlank()) throw new IllegalStateException("ERASURE_QUEUE_URL is not set");
        this.sqs = sqs;
        this.queueUrl = queueUrl;
    }

    @Override
    public void enqueue(String clientId, int delaySeconds) {
        String body = new String(Json.write(Map.of("client_id", clientId)), StandardCharsets.UTF_8);
        sqs.sendMessage(r -> r.queueUrl(queueUrl).messageBody(body).delaySeconds(delaySeconds));
    }
}
