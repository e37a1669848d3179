package dev.usagetracker.queue;

import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitQueue;
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
        for (HitBatch part : parts) {
            sqs.sendMessage(r -> r.queueUrl(queueUrl)
                    .messageBody(new String(Json.write(part), StandardCharsets.UTF_8))
                    .messageAttributes(java.util.Map.of("client_id", MessageAttributeValue.builder()
                            .dataType("String").stringValue(part.clientId()).build())));
        }
    }
}
