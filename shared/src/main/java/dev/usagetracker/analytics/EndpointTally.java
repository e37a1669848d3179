package dev.usagetracker.analytics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One client's hits of one day by template: the first {@value #MAX_TEMPLATES} distinct templates in
 * arrival order are counted by name, every later one in {@code other}, so a client that sends random
 * paths cannot grow a day's summary without bound. {@code total} is every hit, named or not.
 */
public final class EndpointTally {
    public static final int MAX_TEMPLATES = 1_000;

    private final Map<String, Long> named = new LinkedHashMap<>();
    private long other;
    private long total;

    public static EndpointTally of(Map<String, Long> named, long other, long total) {
        EndpointTally t = new EndpointTally();
        t.named.putAll(named);
        t.other = other;
        t.total = total;
        return t;
    }

    public void add(String template, long n) {
        if (named.containsKey(template) || named.size() < MAX_TEMPLATES) named.merge(template, n, Long::sum);
        else other += n;
        total += n;
    }

    /** Adds another day: names stay names (each day had its own cap), others stay others. */
    public void addAll(EndpointTally day) {
        day.named.forEach((k, v) -> named.merge(k, v, Long::sum));
        other += day.other;
        total += day.total;
    }

    public Map<String, Long> named() {
        return named;
    }

    public long other() {
        return other;
    }

    public long total() {
        return total;
    }
}
