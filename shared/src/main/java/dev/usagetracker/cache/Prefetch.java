package dev.usagetracker.cache;

import dev.usagetracker.usage.UsageStore;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The scheduled warm-up (every minute on AWS, at start and on the same schedule locally): bumps the
 * cache epoch if a writer noted a skipped version bump ({@link CacheEpoch}), rebuilds the counters from
 * the aggregates when Redis lost them or their ready mark lapsed (every 10 minutes, so lag is repaired),
 * and refreshes the cached 24 h ranking, so /top is read from the cache.
 */
public final class Prefetch {
    private final Optional<UsageCounters> counters;
    private final Optional<CacheEpoch> epoch;
    private final UsageStore store;

    public Prefetch(Optional<UsageCounters> counters, Optional<CacheEpoch> epoch, UsageStore store) {
        this.counters = counters;
        this.epoch = epoch;
        this.store = store;
    }

    public Map<String, Object> run() {
        Map<String, Object> summary = new LinkedHashMap<>();
        if (counters.isEmpty()) {
            summary.put("skipped", "no REDIS_URL");
            return summary;
        }
        // First: while a skipped bump is not made up, a cached answer can hide committed hits.
        epoch.map(CacheEpoch::repairDue).filter(r -> r != CacheEpoch.Repair.NOTHING_DUE)
                .ifPresent(r -> summary.put("cache_epoch", r.name().toLowerCase(Locale.ROOT)));
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
