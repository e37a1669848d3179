package dev.usagetracker.analytics;

import java.util.List;

/** {@code GET /api/usage/endpoints}: the top templates; {@code sum(endpoints) + other == total}. */
public record EndpointUsageReport(String from, String to, String clientId, List<EndpointCount> endpoints, long other,
                                  long total) {
    public record EndpointCount(String endpoint, long count) {}
}
