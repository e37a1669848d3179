package dev.usagetracker.usage;

import java.util.List;

/** {@code GET /api/usage/top}: clients by count descending, ties by client id. */
public record TopUsageReport(String from, String to, List<TopClient> top) {
    public record TopClient(String clientId, String name, long count) {}
}
