package dev.usagetracker.forwarder;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/** One access-log line as usage-tracker's {@code POST /api/logs} takes it; null = unknown, left out. */
public record ForwardedHit(String ip, String endpoint, Instant timestamp, String method, Integer status, Double durationMs) {

    void writeTo(ObjectNode hit) {
        hit.put("ip", ip);
        hit.put("endpoint", endpoint);
        hit.put("timestamp", timestamp.toString());
        if (method != null) hit.put("method", method);
        if (status != null) hit.put("status", status);
        if (durationMs != null) hit.put("duration_ms", durationMs);
    }
}
