package dev.usagetracker.ingest;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code POST /api/logs} with one hit; {@code api_key} in the body is the original brief's way to authenticate. */
public record SingleHitRequest(String ip, String endpoint, String timestamp, JsonNode method, JsonNode status,
                               JsonNode durationMs, String apiKey) {

    HitFields hit() {
        return new HitFields(ip, endpoint, timestamp, method, status, durationMs);
    }
}
