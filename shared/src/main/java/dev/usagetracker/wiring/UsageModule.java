package dev.usagetracker.wiring;

import dev.usagetracker.cache.CacheEpoch;
import dev.usagetracker.cache.CachedUsage;
import dev.usagetracker.cache.Prefetch;
import dev.usagetracker.cache.ResponseCache;
import dev.usagetracker.cache.UsageCounters;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.store.DynamoCacheEpochDue;
import dev.usagetracker.store.DynamoUsageStore;
import dev.usagetracker.usage.UsageService;
import dev.usagetracker.usage.UsageStore;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The daily aggregates and what reads them: /daily and /top behind the versioned response cache, the
 * Redis mirror of the counters the consumer keeps after each commit, and the scheduled prefetch.
 */
public final class UsageModule {
    private final Clients clients;
    private final Lazy<UsageService> service;
    private final Lazy<ResponseCache> responseCache;
    private final Lazy<Optional<CacheEpoch>> epoch;
    private final Lazy<Optional<UsageCounters>> counters;
    private final Lazy<CachedUsage> cached;

    public UsageModule(Clients clients, IdentityModule identity) {
        this.clients = clients;
        var clock = clients.clock();
        service = new Lazy<>(() -> new UsageService(store(), identity.clientStore(), clock));
        responseCache = new Lazy<>(new Supplier<>() {
            @Override
            public ResponseCache get() {
                return new ResponseCache(clients.redis(), clock);
            }
        });
        // One per container: it remembers a bump this container skipped (docs/caching.md).
        epoch = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<CacheEpoch> get() {
                return clients.redis().map(r -> CacheEpoch.inRedis(r,
                        new DynamoCacheEpochDue(clients.dynamo(), clients.config().usageTable()), clock));
            }
        });
        counters = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<UsageCounters> get() {
                return clients.redis().map(r -> new UsageCounters(r, responseCache.get(), epoch.get().orElseThrow(),
                        new UsageEvents(r), identity.clientStore(), service.get(), clock, clients.retention()));
            }
        });
        cached = new Lazy<>(new Supplier<>() {
            @Override
            public CachedUsage get() {
                return new CachedUsage(service.get(), responseCache.get(), counters.get(), clock);
            }
        });
    }

    /** The Usage table's daily aggregates. */
    public UsageStore store() {
        return new DynamoUsageStore(clients.dynamo(), clients.config().usageTable(), clients.usageKeys());
    }

    public UsageService service() { return service.get(); }

    /** Answers by Redis-versioned keys, with a per-container L1 (docs/caching.md). */
    public ResponseCache responseCache() { return responseCache.get(); }

    /** The Redis mirror of the aggregates, if Redis is configured. */
    public Optional<UsageCounters> counters() { return counters.get(); }

    /** /daily and /top behind the versioned response cache. */
    public CachedUsage cached() { return cached.get(); }

    /** The schedule's warm-up of /top and the hot /daily entries. */
    public Prefetch prefetch() {
        return new Prefetch(counters.get(), epoch.get(), store());
    }
}
