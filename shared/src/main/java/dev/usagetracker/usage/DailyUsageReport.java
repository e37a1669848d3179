package dev.usagetracker.usage;

import java.util.List;

/** {@code GET /api/usage/daily}: one entry per client, one per day oldest first, zeros included. */
public record DailyUsageReport(String from, String to, List<ClientUsage> clients) {
    public record ClientUsage(String clientId, String name, List<DayCount> days, long total) {}

    public record DayCount(String date, long count) {}
}
