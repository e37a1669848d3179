package dev.usagetracker.analytics;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/usage/hourly}: per client, one entry per hour, zero-filled, oldest first, current hour
 * last; each hour's {@code statuses} add up to its {@code count}.
 */
public record HourlyUsageReport(String from, String to, List<ClientHours> clients) {
    public record ClientHours(String clientId, String name, List<HourCount> hours, long total) {}

    public record HourCount(String hour, long count, Map<String, Long> statuses) {}
}
