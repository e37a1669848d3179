package dev.usagetracker.webhooks;

import dev.usagetracker.alerts.AlertSink;
import dev.usagetracker.alerts.ThresholdAlert;
import dev.usagetracker.http.Json;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageUpdate;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A claimed threshold goes to the webhook queue (one SendMessage; the delivery function does the rest)
 * and to the live stream (SSE {@code event: threshold}, WebSocket frame), after the claim and so after the
 * hits that crossed it are committed. If the queue cannot take it the claim stands and the failure is
 * logged at error: the event is lost for webhooks, not repeated (at most once beyond the claim).
 */
public final class WebhookAlertSink implements AlertSink {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookAlertSink.class);

    private final WebhookQueue queue;
    private final Optional<UsageEvents> live;

    public WebhookAlertSink(WebhookQueue queue, Optional<UsageEvents> live) {
        this.queue = queue;
        this.live = live;
    }

    public static String body(String eventType, Instant at, Object data) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", eventType);
        event.put("timestamp", at.toString());
        event.put("data", data);
        return new String(Json.write(event), StandardCharsets.UTF_8);
    }

    @Override
    public void raised(String eventId, ThresholdAlert alert, Instant at) {
        try {
            queue.send(List.of(WebhookMessage.event(eventId, WebhookService.USAGE_THRESHOLD, alert.clientId(),
                    body(WebhookService.USAGE_THRESHOLD, at, alert), null)), Duration.ZERO);
        } catch (RuntimeException e) {
            LOG.atError().addKeyValue("event_id", eventId).addKeyValue("client_id", alert.clientId())
                    .addKeyValue("error", e.getClass().getSimpleName()).log("usage.threshold event not queued for webhooks");
        }
        live.ifPresent(events -> events.publish(List.of(UsageUpdate.threshold(alert))));
    }
}
