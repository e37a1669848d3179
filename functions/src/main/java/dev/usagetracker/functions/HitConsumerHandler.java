package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.usagetracker.ingest.HitConsumer;
import dev.usagetracker.observability.Correlation;
import dev.usagetracker.wiring.Warmup;
import java.util.List;

/** SQS → ledger. Reports only the failed messages, so the rest of the batch is deleted (ReportBatchItemFailures). */
public final class HitConsumerHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
    private final HitConsumer consumer;

    public HitConsumerHandler() {
        this(Container.app().ingest().consumer());
        Container.app().prime(Warmup.LEDGER, Warmup.JSON);
    }

    public HitConsumerHandler(HitConsumer consumer) {
        this.consumer = consumer;
    }

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        List<HitConsumer.QueuedMessage> messages = event.getRecords().stream()
                .map(m -> new HitConsumer.QueuedMessage(m.getMessageId(), m.getBody(), correlationId(m),
                        m.getReceiptHandle(), receiveCount(m)))
                .toList();
        // The deadline: messages it cannot finish go back to the queue, what committed is reported and mirrored.
        List<SQSBatchResponse.BatchItemFailure> failures = consumer.process(messages, remaining(context)).stream()
                .map(SQSBatchResponse.BatchItemFailure::new)
                .toList();
        return new SQSBatchResponse(failures);
    }

    private static java.util.function.LongSupplier remaining(Context context) {
        return context == null ? () -> Long.MAX_VALUE : context::getRemainingTimeInMillis;
    }

    private static int receiveCount(SQSEvent.SQSMessage m) {
        String n = m.getAttributes() == null ? null : m.getAttributes().get("ApproximateReceiveCount");
        try {
            return n == null ? 1 : Integer.parseInt(n);
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static String correlationId(SQSEvent.SQSMessage message) {
        SQSEvent.MessageAttribute a = message.getMessageAttributes() == null ? null
                : message.getMessageAttributes().get(Correlation.MESSAGE_ATTRIBUTE);
        return a == null ? null : a.getStringValue();
    }
}
