package dev.usagetracker.analytics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One client's hits of one day by row ({@link RowKey}: template, or method and template): the first
 * {@value #MAX_TEMPLATES} distinct rows in arrival order are counted by name, with their status classes
 * and latency bins, every later one in {@code other}, so a client that sends random paths cannot grow a
 * day's summary without bound. {@code total} is every hit, named or not.
 */
public final class EndpointTally {
    public static final int MAX_TEMPLATES = 1_000;

    private final Map<String, RowStats> named = new LinkedHashMap<>();
    private long other;
    private long total;

    public static EndpointTally of(Map<String, RowStats> named, long other, long total) {
        EndpointTally t = new EndpointTally();
        t.named.putAll(named);
        t.other = other;
        t.total = total;
        return t;
    }

    /** One hit of a row. */
    public void add(String row, Integer status, Double durationMs) {
        RowStats stats = named.get(row);
        if (stats == null && named.size() < MAX_TEMPLATES) named.put(row, stats = new RowStats());
        if (stats != null) stats.add(status, durationMs);
        else other++;
        total++;
    }

    /** Adds another day: names stay names (each day had its own cap), others stay others. */
    public void addAll(EndpointTally day) {
        day.named.forEach((k, v) -> named.computeIfAbsent(k, x -> new RowStats()).addAll(v));
        other += day.other;
        total += day.total;
    }

    public Map<String, RowStats> named() {
        return named;
    }

    public long other() {
        return other;
    }

    public long total() {
        return total;
    }
}
