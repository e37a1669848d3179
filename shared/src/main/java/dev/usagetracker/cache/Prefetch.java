package dev.usagetracker.cache;

import dev.usagetracker.usage.UsageStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The scheduled warm-up (every minute on AWS, at start and on the same schedule locally): rebuilds
 * the counters from the aggregates when Redis lost them or their ready mark lapsed (every 10 minutes,
 * so lag is repaired), and refreshes the cached 24 h ranking, so /top is read from the cache.
 */
public final class Prefetch {
    private final Optional<UsageCounters> counters;
    private final UsageStore store;

    public Prefetch(Optional<UsageCounters> counters, UsageStore store) {
        this.counters = counters;
        this.store = store;
    }

    public Map<String, Object> run() {
        Map<String, Object> summary = new LinkedHashMap<>();
        if (counters.isEmpty()) {
            summary.put("skipped", "no REDIS_URL");
            return summary;
        }
        UsageCounters c = counters.get();
        if (!c.ready()) {
            summary.put("reconciled_hourly_counters", c.reconcile(store));
        } else {
            c.refreshRanking();
            summary.put("refreshed", "top:24");
        }
        return summary;
    }
}
