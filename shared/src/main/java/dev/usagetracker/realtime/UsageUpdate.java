package dev.usagetracker.realtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.usagetracker.alerts.ThresholdAlert;

/**
 * One aggregate change, announced after the consumer committed it: the client's new count for the
 * day (and for the hour) and the cache version that change produced. {@code eventId} is the Redis
 * stream id of the announcement, usable as an SSE {@code id:} and for {@code Last-Event-ID} resume;
 * empty before it is published. An announcement with an {@code alert} is a quota threshold reached
 * (SSE {@code event: threshold}), not a count.
 */
public record UsageUpdate(String eventId, String clientId, String date, String hour, long count, long hourCount,
                          long version, @JsonInclude(JsonInclude.Include.NON_NULL) ThresholdAlert alert) {
    /** The SSE event name, and the WebSocket frame's {@code event}, of a threshold announcement. */
    public static final String THRESHOLD_EVENT = "threshold";

    public UsageUpdate(String eventId, String clientId, String date, String hour, long count, long hourCount, long version) {
        this(eventId, clientId, date, hour, count, hourCount, version, null);
    }

    public static UsageUpdate threshold(ThresholdAlert alert) {
        return new UsageUpdate("", alert.clientId(), "", "", 0, 0, 0, alert);
    }

    /** Not a JSON property: readers of older announcements would refuse an unknown field. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isThreshold() {
        return alert != null;
    }

    public UsageUpdate withEventId(String id) {
        return new UsageUpdate(id, clientId, date, hour, count, hourCount, version, alert);
    }

    /** The SSE event, or WebSocket frame data, of a threshold announcement: the alert as JSON. */
    public String thresholdJson() {
        return new String(dev.usagetracker.http.Json.write(alert), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** {@code {"event":"threshold","id":…,"data":{…alert}}}: the WebSocket frame of a threshold announcement. */
    public String thresholdFrame() {
        java.util.Map<String, Object> frame = new java.util.LinkedHashMap<>();
        frame.put("event", THRESHOLD_EVENT);
        frame.put("id", eventId);
        frame.put("data", alert);
        return new String(dev.usagetracker.http.Json.write(frame), java.nio.charset.StandardCharsets.UTF_8);
    }
}
