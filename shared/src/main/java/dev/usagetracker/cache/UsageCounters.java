package dev.usagetracker.cache;

import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageUpdate;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.store.UsageKeys;
import dev.usagetracker.usage.TopUsageReport;
import dev.usagetracker.usage.UsageService;
import dev.usagetracker.usage.UsageStore;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.SetArgs;
import io.lettuce.core.ZStoreArgs;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redis mirror of the aggregates (DESIGN.md §4). The consumer is its only writer: right after a
 * committed transaction it applies exactly what was committed — INCRBY per client per day and hour,
 * ZINCRBY into the hour's ranking — in one pipeline, bumps the cache versions of what changed,
 * announces the new counts and refreshes the cached 24 h ranking, so /top is served from the cache.
 * Redis never counts a hit DynamoDB lacks; if it lags or loses data, {@link #reconcile} rebuilds it
 * from the aggregates, and until it has, readers use DynamoDB ({@link #ready}). Version bumps that do
 * not reach Redis are made up by a bump of the cache epoch ({@link CacheEpoch}).
 */
public final class UsageCounters {
    private static final Logger LOG = LoggerFactory.getLogger(UsageCounters.class);
    static final Duration HOURLY_TTL = Duration.ofHours(49);
    static final Duration READY_TTL = Duration.ofMinutes(10);
    public static final int RANKED = 10;

    private final Redis redis;
    private final ResponseCache cache;
    private final CacheEpoch epoch;
    private final UsageEvents events;
    private final ClientStore clients;
    private final UsageService usage;
    private final Clock clock;
    private final Duration dailyTtl;

    public UsageCounters(Redis redis, ResponseCache cache, CacheEpoch epoch, UsageEvents events, ClientStore clients,
                         UsageService usage, Clock clock, Duration retention) {
        this.redis = redis;
        this.cache = cache;
        this.epoch = epoch;
        this.events = events;
        this.clients = clients;
        this.usage = usage;
        this.clock = clock;
        this.dailyTtl = retention.plusDays(1);
    }

    String countKey(String clientId, String period) {
        return redis.key("count", clientId, period);
    }

    String rankingKey(String hour) {
        return redis.key("top", hour);
    }

    String namesKey() {
        return redis.key("client-names");
    }

    String readyKey() {
        return redis.key("counters", "ready");
    }

    /** Whether the counters mirror the aggregates (set by {@link #reconcile}, lost with Redis's data). */
    public boolean ready() {
        try {
            return redis.call(c -> c.exists(readyKey())) > 0;
        } catch (Redis.UnavailableException e) {
            return false;
        }
    }

    /**
     * The consumer's step before its transactions: marks the monthly counters the parts may commit to as
     * in flight ({@link dev.usagetracker.plans.MonthlyUsage#begin}); never throws. Hand the result to
     * {@link #committed} after the transactions.
     */
    public dev.usagetracker.plans.MonthlyUsage.InFlight begin(List<HitBatch> parts) {
        return dev.usagetracker.plans.MonthlyUsage.begin(redis, parts);
    }

    /**
     * Applies what a consumer batch committed (never throws: a lagging mirror is repaired by reconcile) and
     * ends the monthly counters' in-flight marks the batch set before its transactions
     * ({@link dev.usagetracker.plans.MonthlyUsage#begin}), even when it committed nothing.
     */
    public void committed(List<HitBatch> parts, dev.usagetracker.plans.MonthlyUsage.InFlight inFlight) {
        if (parts.isEmpty()) {
            if (!inFlight.epochs().isEmpty()) {
                try {
                    dev.usagetracker.plans.MonthlyUsage.committed(redis, Map.of(), inFlight).forEach(redis::await);
                } catch (Redis.UnavailableException e) {
                    LOG.warn("monthly in-flight marks not ended, redis unavailable ({}); they expire", e.getMessage());
                }
            }
            return;
        }
        Map<String, Map<String, Long>> daily = new LinkedHashMap<>();
        Map<String, Map<String, Long>> hourly = new LinkedHashMap<>();
        Map<String, Map<java.time.YearMonth, dev.usagetracker.alerts.MonthlyUsage.Count>> monthly = new LinkedHashMap<>();
        for (HitBatch part : parts) {
            for (HitBatch.PackedHit hit : part.hits()) {
                monthly.computeIfAbsent(part.clientId(), c -> new LinkedHashMap<>())
                        .merge(java.time.YearMonth.from(hit.timestamp().atZone(ZoneOffset.UTC)),
                                dev.usagetracker.alerts.MonthlyUsage.Count.of(hit.s()), dev.usagetracker.alerts.MonthlyUsage.Count::plus);
                daily.computeIfAbsent(part.clientId(), c -> new LinkedHashMap<>()).merge(UsageKeys.day(hit.timestamp()), 1L, Long::sum);
                hourly.computeIfAbsent(part.clientId(), c -> new LinkedHashMap<>()).merge(UsageKeys.hour(hit.timestamp()), 1L, Long::sum);
            }
        }
        boolean bumped = false;
        try {
            Map<String, CompletableFuture<Long>> dayCounts = new HashMap<>();
            Map<String, CompletableFuture<Long>> hourCounts = new HashMap<>();
            List<CompletableFuture<?>> all = new ArrayList<>();
            daily.forEach((client, days) -> days.forEach((day, n) -> {
                String k = countKey(client, day);
                dayCounts.put(client + "|" + day, redis.submit(c -> c.incrby(k, n)));
                all.add(redis.submit(c -> c.expire(k, dailyTtl)));
            }));
            hourly.forEach((client, hours) -> hours.forEach((hour, n) -> {
                String k = countKey(client, hour);
                hourCounts.put(client + "|" + hour, redis.submit(c -> c.incrby(k, n)));
                all.add(redis.submit(c -> c.expire(k, HOURLY_TTL)));
                all.add(redis.submit(c -> c.zincrby(rankingKey(hour), n, client)));
                all.add(redis.submit(c -> c.expire(rankingKey(hour), HOURLY_TTL)));
            }));
            VersionBumps bumps = bumpVersions(daily.keySet());
            all.addAll(dev.usagetracker.plans.MonthlyUsage.committed(redis, monthly, inFlight));
            CompletableFuture<String> epochNow = redis.submit(c -> c.get(CacheEpoch.key(redis)));
            for (CompletableFuture<?> f : all) redis.await(f);
            bumps.await(redis);
            bumped = true;
            epoch.reachable();

            List<UsageUpdate> updates = new ArrayList<>();
            hourly.forEach((client, hours) -> hours.keySet().forEach(hour -> {
                String day = hour.substring(0, 10);
                updates.add(new UsageUpdate("", client, day, hour, redis.await(dayCounts.get(client + "|" + day)),
                        redis.await(hourCounts.get(client + "|" + hour)), redis.await(bumps.clients().get(client))));
            }));
            events.publish(updates);
            rememberNames(daily.keySet());
            if (ready()) refreshRanking(ResponseCache.version(redis.await(epochNow), redis.await(bumps.top())));
        } catch (Redis.UnavailableException e) {
            // Entries cached before this commit would outlive it under the versions not bumped.
            if (!bumped) epoch.skipped();
            LOG.warn("counters not updated, redis unavailable ({}); reconcile will repair them", e.getMessage());
        }
    }

    /**
     * Bumps the cache versions of the clients of parts a replay found committed already: their first
     * commit may never have reached Redis (its writer died or met a timeout after it), and nothing else
     * would retire the answers cached before it. Counts nothing (reconcile repairs the counters); never throws.
     */
    public void replayed(List<HitBatch> parts) {
        if (parts.isEmpty()) return;
        try {
            bumpVersions(parts.stream().map(HitBatch::clientId).collect(java.util.stream.Collectors.toSet())).await(redis);
            epoch.reachable();
        } catch (Redis.UnavailableException e) {
            epoch.skipped();
            LOG.warn("cache versions of replayed parts not bumped, redis unavailable ({})", e.getMessage());
        }
    }

    /** The version bumps of a change to some clients' counts: theirs, the all-clients view's and the ranking's. */
    private record VersionBumps(Map<String, CompletableFuture<Long>> clients, CompletableFuture<Long> all,
                                CompletableFuture<Long> top) {
        void await(Redis redis) {
            clients.values().forEach(redis::await);
            redis.await(all);
            redis.await(top);
        }
    }

    /** Sends the bumps without waiting (they join the caller's pipeline). */
    private VersionBumps bumpVersions(java.util.Collection<String> clientIds) {
        Map<String, CompletableFuture<Long>> clients = new HashMap<>();
        clientIds.forEach(client -> clients.put(client,
                redis.submit(c -> c.incr(ResponseCache.versionKey(redis, "client:" + client)))));
        return new VersionBumps(clients, redis.submit(c -> c.incr(ResponseCache.versionKey(redis, "all"))),
                redis.submit(c -> c.incr(ResponseCache.versionKey(redis, "top"))));
    }

    /** Re-caches the 24 h ranking under the ranking's current version. */
    public void refreshRanking() {
        List<io.lettuce.core.KeyValue<String, String>> found =
                redis.call(c -> c.mget(CacheEpoch.key(redis), ResponseCache.versionKey(redis, "top")));
        refreshRanking(ResponseCache.version(found.get(0).getValueOrElse(null), found.get(1).getValueOrElse(null)));
    }

    /** The 24 h ranking from the counters, cached under the given version of the ranking. */
    void refreshRanking(String version) {
        TopUsageReport top = rankingFromCounters(24);
        String window = usage.window(24).hours().getLast();
        cache.put("top", version, CachedUsage.topKey(24, window), new String(Json.write(top), StandardCharsets.UTF_8));
    }

    /** Top {@value #RANKED} of the last {@code hours} hours from the hourly sorted sets (one round trip each). */
    public TopUsageReport rankingFromCounters(int hours) {
        UsageService.Window window = usage.window(hours);
        String[] sets = window.hours().stream().map(this::rankingKey).toArray(String[]::new);
        String union = redis.key("top", "union", Long.toString(Thread.currentThread().threadId()), Long.toString(System.nanoTime()));
        redis.call(c -> c.zunionstore(union, ZStoreArgs.Builder.sum(), sets));
        List<ScoredValue<String>> best;
        try {
            best = redis.call(c -> c.zrevrangeWithScores(union, 0, RANKED * 4L));
        } finally {
            redis.submit(c -> c.del(union));
        }
        Map<String, Long> totals = new HashMap<>();
        best.forEach(v -> totals.put(v.getValue(), (long) v.getScore()));
        return UsageService.rank(window, totals, RANKED, this::names);
    }

    private Map<String, String> names(List<String> ids) {
        Map<String, String> names = new HashMap<>();
        if (ids.isEmpty()) return names;
        List<io.lettuce.core.KeyValue<String, String>> found = redis.call(c -> c.hmget(namesKey(), ids.toArray(String[]::new)));
        List<String> missing = new ArrayList<>();
        for (var kv : found) {
            if (kv.hasValue()) names.put(kv.getKey(), kv.getValue());
            else missing.add(kv.getKey());
        }
        if (!missing.isEmpty()) {
            Map<String, String> fromTable = clients.names(missing);
            names.putAll(fromTable);
            if (!fromTable.isEmpty()) redis.submit(c -> c.hset(namesKey(), fromTable));
        }
        return names;
    }

    private void rememberNames(java.util.Collection<String> ids) {
        names(List.copyOf(ids));
    }

    /**
     * Rebuilds the counters of today and of the last 25 hours from the aggregates table, then marks
     * them ready. Runs from the scheduled prefetch and at start; a batch applied while it runs may be
     * overwritten, and one committed before its read but applied after its writes counted twice, until
     * the next run (docs/caching.md: the ranking and live counts only, never /daily or quotas).
     */
    public int reconcile(UsageStore store) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        Map<String, Map<LocalDate, Long>> days = store.dailyCountsAllClients(List.of(today));
        List<CompletableFuture<?>> writes = new ArrayList<>();
        days.forEach((client, counts) -> counts.forEach((day, n) ->
                writes.add(redis.submit(c -> c.set(countKey(client, day.toString()), Long.toString(n), SetArgs.Builder.ex(dailyTtl))))));
        int rebuilt = 0;
        for (String hour : usage.window(25).hours()) {
            Map<String, Long> totals = store.hourlyTotals(List.of(hour));
            String key = rankingKey(hour);
            writes.add(redis.submit(c -> c.del(key)));
            if (!totals.isEmpty()) {
                ScoredValue<?>[] members = totals.entrySet().stream()
                        .map(e -> ScoredValue.just(e.getValue(), e.getKey())).toArray(ScoredValue[]::new);
                @SuppressWarnings("unchecked")
                ScoredValue<String>[] typed = (ScoredValue<String>[]) members;
                writes.add(redis.submit(c -> c.zadd(key, typed)));
                writes.add(redis.submit(c -> c.expire(key, HOURLY_TTL)));
                totals.forEach((client, n) -> writes.add(redis.submit(c ->
                        c.set(countKey(client, hour), Long.toString(n), SetArgs.Builder.ex(HOURLY_TTL)))));
                rebuilt += totals.size();
            }
        }
        for (CompletableFuture<?> f : writes) redis.await(f);
        redis.call(c -> c.set(readyKey(), clock.instant().toString(), SetArgs.Builder.ex(READY_TTL)));
        CompletableFuture<Long> version = redis.submit(c -> c.incr(ResponseCache.versionKey(redis, "top")));
        CompletableFuture<String> epochNow = redis.submit(c -> c.get(CacheEpoch.key(redis)));
        refreshRanking(ResponseCache.version(redis.await(epochNow), redis.await(version)));
        return rebuilt;
    }

    public Optional<Long> dailyCount(String clientId, String day) {
        String v = redis.call(c -> c.get(countKey(clientId, day)));
        return v == null ? Optional.empty() : Optional.of(Long.parseLong(v));
    }
}
