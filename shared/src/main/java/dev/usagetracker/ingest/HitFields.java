package dev.usagetracker.ingest;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One hit as a client reports it, before validation. {@code method}, {@code status} and
 * {@code duration_ms} stay JSON nodes so the validator can name each wrong one ("200" for a status)
 * in one 400, as it does for the other fields, instead of the binder stopping at the first.
 */
public record HitFields(String ip, String endpoint, String timestamp, JsonNode method, JsonNode status,
                        JsonNode durationMs) {

    public HitFields(String ip, String endpoint, String timestamp) {
        this(ip, endpoint, timestamp, null, null, null);
    }
}
