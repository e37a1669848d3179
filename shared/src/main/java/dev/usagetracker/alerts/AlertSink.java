package dev.usagetracker.alerts;

import java.time.Instant;

/** Where a claimed alert goes: the webhook queue and the live stream. Must not block for long. */
public interface AlertSink {
    void raised(String eventId, ThresholdAlert alert, Instant at);
}
