package dev.usagetracker.plans;

import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisScript;
import dev.usagetracker.usage.UsageStore;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A client's hits this calendar month (UTC), read cheaply. DynamoDB's daily aggregates are the truth;
 * Redis keeps a mirror {@code <prefix>month:<client_id>:<yyyy-mm>} that the consumer increments right
 * after each commit, but only while it exists ({@code incr-if-exists.lua}). A reader that finds it
 * missing sums the month's daily items (one BatchGetItem of ≤ 31 keys) and sets it for
 * {@link #REBUILD_EVERY}: when that expires the next reader rebuilds it, so a commit that raced a
 * rebuild, or lost Redis data, is repaired within that time. Without Redis every read goes to DynamoDB.
 */
public final class MonthlyUsage {
    static final RedisScript INCR_IF_EXISTS = RedisScript.resource(MonthlyUsage.class, "incr-if-exists.lua");
    public static final Duration REBUILD_EVERY = Duration.ofMinutes(10);

    private final Optional<Redis> redis;
    private final UsageStore store;
    private final Clock clock;

    public MonthlyUsage(Optional<Redis> redis, UsageStore store, Clock clock) {
        this.redis = redis;
        this.store = store;
        this.clock = clock;
    }

    public YearMonth currentMonth() {
        return YearMonth.from(clock.instant().atZone(ZoneOffset.UTC));
    }

    static String key(Redis redis, String clientId, YearMonth month) {
        return redis.key("month", clientId, month.toString());
    }

    /** Hits of the client counted (committed) in that month. */
    public long used(String clientId, YearMonth month) {
        if (redis.isPresent()) {
            Redis r = redis.get();
            String key = key(r, clientId, month);
            try {
                String v = r.call(c -> c.get(key));
                if (v != null) return Long.parseLong(v);
                long total = fromAggregates(clientId, month);
                String set = r.call(c -> c.set(key, Long.toString(total), SetArgs.Builder.nx().ex(REBUILD_EVERY)));
                if (!"OK".equals(set)) {
                    String now = r.call(c -> c.get(key));
                    if (now != null) return Long.parseLong(now);
                }
                return total;
            } catch (Redis.UnavailableException down) {
                // DynamoDB answers instead
            }
        }
        return fromAggregates(clientId, month);
    }

    long fromAggregates(String clientId, YearMonth month) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        List<LocalDate> days = new ArrayList<>();
        for (LocalDate d = month.atDay(1); !d.isAfter(month.atEndOfMonth()) && !d.isAfter(today); d = d.plusDays(1)) days.add(d);
        if (days.isEmpty()) return 0;
        return store.dailyCounts(clientId, days).values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * The consumer's after-commit step: adds what was committed per (client, month) to the counters that
     * exist, in one pipeline with the other mirrors' commands. Returns the futures to await.
     */
    public static List<CompletableFuture<?>> committed(Redis redis, Map<String, Map<YearMonth, Long>> counts) {
        List<CompletableFuture<?>> futures = new ArrayList<>();
        counts.forEach((client, months) -> months.forEach((month, n) -> futures.add(
                INCR_IF_EXISTS.run(redis, ScriptOutputType.INTEGER, new String[] {key(redis, client, month)}, Long.toString(n)))));
        return futures;
    }
}
