package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.usagetracker.erasure.ClientEraser;
import java.util.LinkedHashMap;
import java.util.Map;

/** Erasure queue → {@link ClientEraser}. Reports only the failed messages (ReportBatchItemFailures). */
public final class ErasureHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
    private final ClientEraser eraser;

    public ErasureHandler() {
        this(Container.app().erasure().eraser());
    }

    public ErasureHandler(ClientEraser eraser) {
        this.eraser = eraser;
    }

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        Map<String, String> bodies = new LinkedHashMap<>();
        event.getRecords().forEach(m -> bodies.put(m.getMessageId(), m.getBody()));
        return new SQSBatchResponse(eraser.process(bodies).stream().map(SQSBatchResponse.BatchItemFailure::new).toList());
    }
}
