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
 * Per client and day, a Redis hash of endpoint templates → hits (DESIGN.md §2a): the consumer adds
 * what it committed right after the commit ({@link #committed}, one script call per client and day,
 * pipelined), capped at {@value EndpointTally#MAX_TEMPLATES} named templates plus {@code #other}; the
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
        Map<String, Map<String, Map<String, Long>>> byClientDay = new LinkedHashMap<>();
        for (HitBatch part : parts) {
            for (HitBatch.PackedHit hit : part.hits()) {
                byClientDay.computeIfAbsent(part.clientId(), c -> new LinkedHashMap<>())
                        .computeIfAbsent(UsageKeys.day(hit.timestamp()), d -> new LinkedHashMap<>())
                        .merge(EndpointTemplate.of(hit.ep()), 1L, Long::sum);
            }
        }
        if (byClientDay.isEmpty()) return;
        try {
            List<CompletableFuture<Object>> calls = new ArrayList<>();
            byClientDay.forEach((client, days) -> days.forEach((day, templates) -> {
                List<String> args = new ArrayList<>(2 + templates.size() * 2);
                args.add(Integer.toString(EndpointTally.MAX_TEMPLATES));
                args.add(Long.toString(TTL.toSeconds()));
                templates.forEach((t, n) -> {
                    args.add(t);
                    args.add(Long.toString(n));
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
            Map<String, Long> named = new LinkedHashMap<>();
            fields.forEach((k, v) -> {
                if (!k.startsWith("#")) named.put(k, Long.parseLong(v));
            });
            found.put(day, EndpointTally.of(named, Long.parseLong(fields.getOrDefault(OTHER, "0")),
                    Long.parseLong(fields.get(TOTAL))));
        });
        return found;
    }

    /** Stores a day rebuilt from raw hits in place of whatever the hash held. */
    public void replace(String clientId, LocalDate day, EndpointTally tally) {
        List<String> args = new ArrayList<>(6 + tally.named().size() * 2);
        args.add(Long.toString(TTL.toSeconds()));
        args.add(TOTAL);
        args.add(Long.toString(tally.total()));
        args.add(OTHER);
        args.add(Long.toString(tally.other()));
        tally.named().forEach((t, n) -> {
            args.add(t);
            args.add(Long.toString(n));
        });
        redis.await(REPLACE.run(redis, ScriptOutputType.INTEGER, new String[] {key(clientId, day)}, args.toArray(String[]::new)));
    }
}
