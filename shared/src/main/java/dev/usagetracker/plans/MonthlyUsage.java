package dev.usagetracker.plans;

import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisScript;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's hits this calendar month (UTC), read cheaply. DynamoDB's daily aggregates are the truth;
 * Redis keeps a mirror {@code <prefix>month:{<client_id>}:<yyyy-mm>} that a reader who finds it missing
 * rebuilds from the month's daily items (one strongly consistent BatchGetItem of ≤ 31 keys) and that the
 * consumer adds each batch's committed hits to, only while it exists.
 *
 * <p>A rebuild must not race a commit: a batch committed before the sum was read but added to the
 * counter after it was set would be counted twice. So the consumer marks each (client, month) of a batch
 * in flight in a sync hash {@code <prefix>month-sync:{<client_id>}:<yyyy-mm>} before its transactions
 * ({@link #begin}) and done after them ({@link #committed}); a reader sets the counter only if no batch
 * began or was in flight while it summed ({@code rebuild-month.lua}), else it answers with its sum and
 * sets nothing. The counter still expires every {@link #REBUILD_EVERY}, which repairs what a lost
 * Redis write or a batch that began while Redis was unreachable left out. Without Redis every read goes
 * to DynamoDB.
 */
public final class MonthlyUsage {
    private static final Logger LOG = LoggerFactory.getLogger(MonthlyUsage.class);
    static final RedisScript BEGIN = RedisScript.resource(MonthlyUsage.class, "begin-commit.lua");
    static final RedisScript END = RedisScript.resource(MonthlyUsage.class, "end-commit.lua");
    static final RedisScript REBUILD = RedisScript.resource(MonthlyUsage.class, "rebuild-month.lua");
    public static final Duration REBUILD_EVERY = Duration.ofMinutes(10);
    /**
     * How long a batch may stay in flight: far above the consumer function's timeout (30 s), so a batch
     * that died between its marks blocks rebuilds (readers then sum DynamoDB) for at most this long.
     */
    static final Duration IN_FLIGHT_TTL = Duration.ofMinutes(5);

    private final Optional<Redis> redis;
    private final dev.usagetracker.alerts.MonthlyUsage truth;
    private final Clock clock;

    /** {@code truth} sums the month's daily aggregates in DynamoDB with a consistent read. */
    public MonthlyUsage(Optional<Redis> redis, dev.usagetracker.alerts.MonthlyUsage truth, Clock clock) {
        this.redis = redis;
        this.truth = truth;
        this.clock = clock;
    }

    public YearMonth currentMonth() {
        return YearMonth.from(clock.instant().atZone(ZoneOffset.UTC));
    }

    static String key(Redis redis, String clientId, YearMonth month) {
        return redis.key("month", "{" + clientId + "}", month.toString());
    }

    /** The month's hits whose status was not 5xx (same hash slot as the other two keys). */
    static String nonServerErrorKey(Redis redis, String clientId, YearMonth month) {
        return redis.key("month-ok", "{" + clientId + "}", month.toString());
    }

    static String syncKey(Redis redis, String clientId, YearMonth month) {
        return redis.key("month-sync", "{" + clientId + "}", month.toString());
    }

    /** Hits of the client counted (committed) in that month. */
    public long used(String clientId, YearMonth month) {
        return used(clientId, month, false);
    }

    /**
     * Hits of the client counted (committed) in that month; with {@code excludeServerErrors} (a plan's
     * {@code quota_counts: non_5xx}) those whose status was 5xx are left out. The two numbers have a
     * counter each ({@code month:} and {@code month-ok:}), rebuilt together from one read of the daily
     * aggregates and added to by the same end-of-commit script.
     */
    public long used(String clientId, YearMonth month, boolean excludeServerErrors) {
        if (redis.isPresent()) {
            Redis r = redis.get();
            String key = key(r, clientId, month);
            String okKey = nonServerErrorKey(r, clientId, month);
            String wanted = excludeServerErrors ? okKey : key;
            String sync = syncKey(r, clientId, month);
            try {
                String v = r.call(c -> c.get(wanted));
                if (v != null) return Long.parseLong(v);
                List<io.lettuce.core.KeyValue<String, String>> seen = r.call(c -> c.hmget(sync, "epoch", "begun", "done"));
                dev.usagetracker.alerts.MonthlyUsage.Count total = fromAggregates(clientId, month);
                Long set = r.await(REBUILD.<Long>run(r, ScriptOutputType.INTEGER, new String[] {key, sync, okKey},
                        Long.toString(total.all()), Long.toString(REBUILD_EVERY.toSeconds()), syncState(seen),
                        Long.toString(total.counted(true))));
                if (set == 0) {
                    // Another reader set it first, or a batch is in flight: the stored value (if any) is as
                    // good as the sum, and nothing partial was written.
                    String now = r.call(c -> c.get(wanted));
                    if (now != null) return Long.parseLong(now);
                }
                return total.counted(excludeServerErrors);
            } catch (Redis.UnavailableException down) {
                // DynamoDB answers instead
            }
        }
        return fromAggregates(clientId, month).counted(excludeServerErrors);
    }

    /** The state rebuild-month.lua compares: "" for no hash, else "epoch:begun:done". */
    static String syncState(List<io.lettuce.core.KeyValue<String, String>> fields) {
        if (fields.isEmpty() || !fields.get(0).hasValue()) return "";
        return fields.get(0).getValue() + ":" + (fields.get(1).hasValue() ? fields.get(1).getValue() : "0") + ":"
                + (fields.get(2).hasValue() ? fields.get(2).getValue() : "0");
    }

    dev.usagetracker.alerts.MonthlyUsage.Count fromAggregates(String clientId, YearMonth month) {
        return truth.count(clientId, month);
    }

    /** The (client, month) pairs of a batch that {@link #begin} marked in flight, each with its epoch. */
    public record InFlight(Map<String, Map<YearMonth, String>> epochs) {
        public static final InFlight NONE = new InFlight(Map.of());
    }

    /**
     * The consumer's step before its transactions: marks every (client, month) the parts may commit to
     * as in flight. Never throws: if Redis cannot be reached nothing is marked, and {@link #committed}
     * then leaves those counters alone (the next rebuild counts the batch).
     */
    public static InFlight begin(Redis redis, List<HitBatch> parts) {
        Map<String, Set<YearMonth>> months = new LinkedHashMap<>();
        for (HitBatch part : parts) {
            for (HitBatch.PackedHit hit : part.hits()) {
                months.computeIfAbsent(part.clientId(), c -> new LinkedHashSet<>())
                        .add(YearMonth.from(hit.timestamp().atZone(ZoneOffset.UTC)));
            }
        }
        if (months.isEmpty()) return InFlight.NONE;
        String epoch = UUID.randomUUID().toString();
        String ttl = Long.toString(IN_FLIGHT_TTL.toSeconds());
        Map<String, Map<YearMonth, CompletableFuture<String>>> pending = new LinkedHashMap<>();
        months.forEach((client, set) -> set.forEach(month -> pending.computeIfAbsent(client, c -> new LinkedHashMap<>())
                .put(month, BEGIN.run(redis, ScriptOutputType.VALUE, new String[] {syncKey(redis, client, month)}, epoch, ttl))));
        Map<String, Map<YearMonth, String>> epochs = new LinkedHashMap<>();
        pending.forEach((client, byMonth) -> byMonth.forEach((month, future) -> {
            try {
                epochs.computeIfAbsent(client, c -> new LinkedHashMap<>()).put(month, redis.await(future));
            } catch (RuntimeException unreachable) {
                LOG.warn("monthly usage not marked in flight ({}); its counter waits for the next rebuild",
                        unreachable.getClass().getSimpleName());
            }
        }));
        return new InFlight(epochs);
    }

    /**
     * The consumer's step after its transactions, in one pipeline with the other mirrors' commands: for
     * every (client, month) {@link #begin} marked, adds what was committed (perhaps nothing) to the
     * counter if it exists and marks the batch done. Returns the futures to await.
     */
    public static List<CompletableFuture<?>> committed(Redis redis,
                                                      Map<String, Map<YearMonth, dev.usagetracker.alerts.MonthlyUsage.Count>> counts,
                                                      InFlight inFlight) {
        List<CompletableFuture<?>> futures = new ArrayList<>();
        var none = new dev.usagetracker.alerts.MonthlyUsage.Count(0, 0);
        inFlight.epochs().forEach((client, months) -> months.forEach((month, epoch) -> {
            var n = counts.getOrDefault(client, Map.of()).getOrDefault(month, none);
            futures.add(END.run(redis, ScriptOutputType.INTEGER,
                    new String[] {key(redis, client, month), syncKey(redis, client, month),
                            nonServerErrorKey(redis, client, month)},
                    Long.toString(n.all()), epoch, Long.toString(n.counted(true))));
        }));
        return futures;
    }
}
