package dev.usagetracker.analytics;

import java.util.List;

/** {@code GET /api/usage/hourly}: per client, one entry per hour, zero-filled, oldest first, current hour last. */
public record HourlyUsageReport(String from, String to, List<ClientHours> clients) {
    public record ClientHours(String clientId, String name, List<HourCount> hours, long total) {}

    public record HourCount(String hour, long count) {}
}
