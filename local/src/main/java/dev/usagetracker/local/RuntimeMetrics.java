package dev.usagetracker.local;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What {@code GET /metrics} reports about the local runtime: requests per route and status class as
 * the gateway saw them, containers and invocations per function, and the event source mappings.
 * CloudWatch gets the functions' own metrics (EMF) on AWS; this is the local, process-wide view.
 */
public final class RuntimeMetrics {
    private final Instant started = Instant.now();
    private final Map<String, Map<String, LongAdder>> byRoute = new ConcurrentHashMap<>();

    /** Counts one answered request; {@code route} is the matched route key, or "unmatched". */
    public void record(String route, int status) {
        byRoute.computeIfAbsent(route, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(status / 100 + "xx", c -> new LongAdder()).increment();
    }

    public long requests(String route, String statusClass) {
        LongAdder n = byRoute.getOrDefault(route, Map.of()).get(statusClass);
        return n == null ? 0 : n.sum();
    }

    /** The summary as a JSON-ready tree. */
    public Map<String, Object> snapshot(Map<String, FunctionPool> pools, List<SqsEventSourceMapping> mappings) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("uptime_seconds", Duration.between(started, Instant.now()).toSeconds());
        Map<String, Object> routes = new TreeMap<>();
        Map<String, Long> classes = new TreeMap<>();
        long total = 0;
        for (var route : byRoute.entrySet()) {
            Map<String, Long> counts = new TreeMap<>();
            for (var c : route.getValue().entrySet()) {
                long n = c.getValue().sum();
                counts.put(c.getKey(), n);
                classes.merge(c.getKey(), n, Long::sum);
                total += n;
            }
            routes.put(route.getKey(), counts);
        }
        out.put("requests", Map.of("total", total, "by_status_class", classes, "by_route", routes));
        Map<String, Object> functions = new TreeMap<>();
        pools.forEach((id, pool) -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("containers", pool.containers());
            f.put("invocations", pool.invocations());
            f.put("init_ms", pool.initMillis());
            functions.put(id, f);
        });
        out.put("functions", functions);
        out.put("event_source_mappings", mappings.stream().map(m -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("function", m.functionName());
            e.put("invocations", m.invocations());
            e.put("deleted_messages", m.deletedMessages());
            return e;
        }).toList());
        return out;
    }
}
