package dev.usagetracker.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** How a route's answers were served, counted by their X-Cache header (HIT, MISS, STALE). */
final class CacheTally {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void record(Api.Reply reply) {
        if (reply.status() != 200) {
            counts.computeIfAbsent("status " + reply.status(), k -> new LongAdder()).increment();
            return;
        }
        counts.computeIfAbsent(reply.cache().isEmpty() ? "none" : reply.cache(), k -> new LongAdder()).increment();
    }

    /** The counts since the previous call, and starts again from zero. */
    synchronized Map<String, Long> drain() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> {
            long n = v.sumThenReset();
            if (n > 0) out.put(k, n);
        });
        return out;
    }

    static long reads(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    static double hitRatio(Map<String, Long> counts) {
        long reads = reads(counts);
        return reads == 0 ? 0 : (double) counts.getOrDefault("HIT", 0L) / reads;
    }
}
