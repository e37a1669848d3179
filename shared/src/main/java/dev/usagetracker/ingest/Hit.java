package dev.usagetracker.ingest;

import java.time.Instant;

/**
 * A validated hit: when, from which address, on which endpoint; and, when the reporter knew them, the
 * HTTP method (upper-case), the response status and the duration in milliseconds (null = unknown).
 */
public record Hit(Instant timestamp, String ip, String endpoint, String method, Integer status, Double durationMs) {

    public Hit(Instant timestamp, String ip, String endpoint) {
        this(timestamp, ip, endpoint, null, null, null);
    }
}
