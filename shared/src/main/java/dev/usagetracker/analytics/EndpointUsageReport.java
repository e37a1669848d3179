package dev.usagetracker.analytics;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/usage/endpoints}: the top rows; {@code sum(endpoints) + other == total}. A row is an
 * endpoint template, or with {@code group_by=method} a (method, template) pair ({@code method} null:
 * unknown); its {@code statuses} add up to its {@code count}; {@code duration_ms} is null when no hit
 * of the row had a duration.
 */
public record EndpointUsageReport(String from, String to, String clientId, List<Row> endpoints, long other,
                                  long total) {
    /** A row of the report; the JSON has the fields of the record that implements it. */
    public sealed interface Row permits EndpointCount, MethodEndpointCount {
        long count();
    }

    public record EndpointCount(String endpoint, long count, Map<String, Long> statuses,
                                LatencySketch.Percentiles durationMs) implements Row {}

    public record MethodEndpointCount(String method, String endpoint, long count, Map<String, Long> statuses,
                                      LatencySketch.Percentiles durationMs) implements Row {}
}
