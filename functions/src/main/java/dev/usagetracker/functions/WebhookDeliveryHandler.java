package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.usagetracker.webhooks.WebhookDelivery;
import dev.usagetracker.wiring.Warmup;
import java.util.List;

/** Webhook queue → receivers (WebhookDeliveryFunction); only messages to receive again are reported. */
public final class WebhookDeliveryHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
    private final WebhookDelivery delivery;

    public WebhookDeliveryHandler() {
        this(Container.app().webhooks().delivery());
        Container.app().prime(Warmup.JSON);
    }

    public WebhookDeliveryHandler(WebhookDelivery delivery) {
        this.delivery = delivery;
    }

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        List<WebhookDelivery.Received> messages = event.getRecords().stream()
                .map(m -> new WebhookDelivery.Received(m.getMessageId(), m.getBody())).toList();
        return new SQSBatchResponse(delivery.process(messages).stream().map(SQSBatchResponse.BatchItemFailure::new).toList());
    }
}
