package dev.usagetracker.realtime;

import dev.usagetracker.alerts.ThresholdAlert;

/**
 * A daily aggregate that changed, as the Usage table's stream reports it: {@code id} orders changes of
 * one source (a DynamoDB stream sequence number on AWS, a Redis stream id locally). A change with an
 * {@code alert} is a quota threshold claimed (the claim item of {@code store.DynamoThresholdClaims}), not
 * a count: it is pushed as the {@code {"event":"threshold",…}} frame the local WebSocket sends.
 */
public record UsageChange(String id, String clientId, String date, long count, ThresholdAlert alert) {
    public UsageChange(String id, String clientId, String date, long count) {
        this(id, clientId, date, count, null);
    }

    public static UsageChange threshold(String id, ThresholdAlert alert) {
        return new UsageChange(id, alert.clientId(), "", 0, alert);
    }

    public boolean isThreshold() {
        return alert != null;
    }

    public UsageMessage message() {
        return new UsageMessage(clientId, date, count);
    }

    /** The WebSocket frame of this change: a usage frame, or the same threshold frame as UsageUpdate's. */
    public String frame() {
        return isThreshold() ? UsageUpdate.threshold(alert).withEventId(id).thresholdFrame() : message().frame(id);
    }
}
