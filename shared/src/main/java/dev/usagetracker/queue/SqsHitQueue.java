package dev.usagetracker.queue;

import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitQueue;
import dev.usagetracker.observability.Correlation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/** One SQS message per batch part; SendMessage returns only once SQS has stored it redundantly. */
public final class SqsHitQueue implements HitQueue {
    private final SqsClient sqs;
    private final String queueUrl;

    public SqsHitQueue(SqsClient sqs, String queueUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
    }

    @Override
    public void send(List<HitBatch> parts) {
        java.util.Map<String, MessageAttributeValue> attributes = new java.util.HashMap<>();
        String correlationId = Correlation.current();
        // The consumer logs it with the batch: one id follows a request from the API into the consumer.
        if (correlationId != null) attributes.put(Correlation.MESSAGE_ATTRIBUTE, string(correlationId));
        for (HitBatch part : parts) {
            attributes.put("client_id", string(part.clientId()));
            sqs.sendMessage(r -> r.queueUrl(queueUrl)
                    .messageBody(new String(Json.write(part), StandardCharsets.UTF_8))
                    .messageAttributes(java.util.Map.copyOf(attributes)));
        }
    }

    private static MessageAttributeValue string(String value) {
        return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
    }
}
