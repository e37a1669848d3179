package dev.usagetracker.analytics;

import java.util.List;

/** One page of an export: rows in (client_id, period) order and where the next page starts, if any. */
public record ExportPage(String granularity, List<Row> rows, Position next) {
    public record Row(String clientId, String period, long count) {}

    /** The last row a page holds: the next page starts after it. */
    public record Position(String clientId, String period) {}
}
