package dev.usagetracker.analytics;

import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisScript;
import dev.usagetracker.store.UsageKeys;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per client and day, a Redis hash of endpoint rows → hits (DESIGN.md §2a, §2b): a row is a template,
 * or method and template ({@link RowKey}); beside its count, {@code <row>\t<suffix>} fields count its
 * status classes and latency bins ({@link RowStats}). The consumer adds what it committed right after
 * the commit ({@link #committed}, one script call per client and day, pipelined), capped at
 * {@value EndpointTally#MAX_TEMPLATES} named rows plus {@code #other}; the
 * read side stores days it rebuilt from raw hits ({@link #replace}). Every hash carries {@code #total},
 * which readers compare with the day's aggregate in DynamoDB: a hash that does not match is not used.
 * Nothing here adds to a DynamoDB transaction.
 */
public final class EndpointMirror {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointMirror.class);
    /** Longer than the longest window (31 days), so a closed day is rebuilt from raw hits at most once a month. */
    static final Duration TTL = Duration.ofDays(35);
    static final String TOTAL = "#total";
    static final String OTHER = "#other";
    static final String ROWS = "#rows";
    private static final RedisScript ADD = RedisScript.resource(EndpointMirror.class, "endpoints-add.lua");
    private static final RedisScript REPLACE = RedisScript.resource(EndpointMirror.class, "endpoints-replace.lua");

    private final Redis redis;

    public EndpointMirror(Redis redis) {
        this.redis = redis;
    }

    String key(String clientId, LocalDate day) {
        return redis.key("endpoints", clientId, day.toString());
    }

    /** Applies what a consumer batch committed. Never throws: a lagging mirror is rebuilt by readers. */
    public void committed(List<HitBatch> parts) {
        Map<String, Map<String, Map<String, RowStats>>> byClientDay = new LinkedHashMap<>();
        for (HitBatch part : parts) {
            for (HitBatch.PackedHit hit : part.hits()) {
                byClientDay.computeIfAbsent(part.clientId(), c -> new LinkedHashMap<>())
                        .computeIfAbsent(UsageKeys.day(hit.timestamp()), d -> new LinkedHashMap<>())
                        .computeIfAbsent(RowKey.of(hit.m(), hit.ep()), r -> new RowStats()).add(hit.s(), hit.d());
            }
        }
        if (byClientDay.isEmpty()) return;
        try {
            List<CompletableFuture<Object>> calls = new ArrayList<>();
            byClientDay.forEach((client, days) -> days.forEach((day, rows) -> {
                List<String> args = new ArrayList<>(2 + rows.size() * 5);
                args.add(Integer.toString(EndpointTally.MAX_TEMPLATES));
                args.add(Long.toString(TTL.toSeconds()));
                rows.forEach((row, stats) -> {
                    Map<String, Long> suffixes = stats.suffixes();
                    args.add(row);
                    args.add(Long.toString(stats.count()));
                    args.add(Integer.toString(suffixes.size()));
                    suffixes.forEach((suffix, n) -> {
                        args.add(suffix);
                        args.add(Long.toString(n));
                    });
                });
                calls.add(ADD.run(redis, ScriptOutputType.INTEGER, new String[] {key(client, LocalDate.parse(day))},
                        args.toArray(String[]::new)));
            }));
            for (CompletableFuture<Object> call : calls) redis.await(call);
        } catch (Redis.UnavailableException e) {
            LOG.warn("endpoint mirror not updated, redis unavailable ({}); readers rebuild from raw hits", e.getMessage());
        }
    }

    /** The mirrored days of one client that exist in Redis (absent days are missing from the map). */
    public Map<LocalDate, EndpointTally> read(String clientId, List<LocalDate> days) {
        Map<LocalDate, CompletableFuture<Map<String, String>>> pending = new LinkedHashMap<>();
        for (LocalDate day : days) pending.put(day, redis.submit(c -> c.hgetall(key(clientId, day))));
        Map<LocalDate, EndpointTally> found = new HashMap<>();
        pending.forEach((day, f) -> {
            Map<String, String> fields = redis.await(f);
            if (fields == null || !fields.containsKey(TOTAL)) return;
            Map<String, Long> counts = new LinkedHashMap<>();
            Map<String, Map<String, Long>> suffixes = new HashMap<>();
            fields.forEach((k, v) -> {
                if (k.startsWith("#")) return;
                int tab = k.indexOf('\t');
                if (tab < 0) counts.put(k, Long.parseLong(v));
                else suffixes.computeIfAbsent(k.substring(0, tab), r -> new HashMap<>()).put(k.substring(tab + 1), Long.parseLong(v));
            });
            Map<String, RowStats> named = new LinkedHashMap<>();
            counts.forEach((row, n) -> named.put(row, RowStats.of(n, suffixes.getOrDefault(row, Map.of()))));
            found.put(day, EndpointTally.of(named, Long.parseLong(fields.getOrDefault(OTHER, "0")),
                    Long.parseLong(fields.get(TOTAL))));
        });
        return found;
    }

    /** Stores a day rebuilt from raw hits in place of whatever the hash held. */
    public void replace(String clientId, LocalDate day, EndpointTally tally) {
        List<String> args = new ArrayList<>(8 + tally.named().size() * 4);
        args.add(Long.toString(TTL.toSeconds()));
        args.add(TOTAL);
        args.add(Long.toString(tally.total()));
        args.add(OTHER);
        args.add(Long.toString(tally.other()));
        args.add(ROWS);
        args.add(Integer.toString(tally.named().size()));
        tally.named().forEach((row, stats) -> {
            args.add(row);
            args.add(Long.toString(stats.count()));
            stats.suffixes().forEach((suffix, n) -> {
                args.add(row + "\t" + suffix);
                args.add(Long.toString(n));
            });
        });
        redis.await(REPLACE.run(redis, ScriptOutputType.INTEGER, new String[] {key(clientId, day)}, args.toArray(String[]::new)));
    }
}
