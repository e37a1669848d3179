package dev.usagetracker.erasure;

import dev.usagetracker.http.Json;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageUpdate;
import dev.usagetracker.redis.Redis;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Every Redis key of this deployment that names the client ({@link ClientKeyMatcher}: counters, the
 * endpoint mirror, rate-limit windows, the credential version, cached responses of its scope, ...) is
 * found with {@code SCAN MATCH <prefix>*<client_id>*} and deleted; the client is removed from the keys it
 * shares with others: {@code ZREM} from the hourly {@code top:*} rankings, {@code HDEL} from the
 * {@code client-names} hash; and every response-cache version is bumped, so no cached answer that lists
 * the client (the admin's views) is served again (they expire within the cache TTL). The client's entries
 * in the shared usage-events stream are deleted ({@code XDEL}), so whoever registers the freed id cannot
 * replay them with {@code Last-Event-ID: 0-0}. SCAN walks the whole keyspace in steps of 1,000 keys, and
 * XRANGE the capped stream in pages of 1,000 entries, without blocking Redis; erasures are rare.
 */
public final class RedisClientErasure implements RedisErasure {
    private static final int SCAN_COUNT = 1_000;

    private final Redis redis;

    public RedisClientErasure(Redis redis) {
        this.redis = redis;
    }

    @Override
    public long erase(String clientId) {
        ClientKeyMatcher matcher = new ClientKeyMatcher(clientId);
        String prefix = redis.key("");
        List<String> doomed = new ArrayList<>();
        scan(matcher.scanPattern(prefix), key -> {
            if (key.startsWith(prefix) && matcher.names(key.substring(prefix.length()))) doomed.add(key);
        });
        for (int from = 0; from < doomed.size(); from += 500) {
            String[] batch = doomed.subList(from, Math.min(doomed.size(), from + 500)).toArray(String[]::new);
            redis.call(c -> c.del(batch));
        }
        scan(ClientKeyMatcher.escape(redis.key("top", "")) + "*", key -> {
            String type = redis.call(c -> c.type(key));
            if ("zset".equals(type)) redis.call(c -> c.zrem(key, clientId));
        });
        redis.call(c -> c.hdel(redis.key("client-names"), clientId));
        scan(ClientKeyMatcher.escape(redis.key("usage", "version", "")) + "*", key -> redis.call(c -> c.incr(key)));
        return doomed.size() + eraseStreamEntries(clientId);
    }

    /** Deletes the client's announcements from the capped usage-events stream; returns how many. */
    private int eraseStreamEntries(String clientId) {
        String stream = UsageEvents.stream(redis);
        int deleted = 0;
        Range.Boundary<String> from = Range.Boundary.unbounded();
        while (true) {
            Range<String> range = Range.from(from, Range.Boundary.unbounded());
            List<StreamMessage<String, String>> page = redis.call(c -> c.xrange(stream, range, Limit.create(0, SCAN_COUNT)));
            if (page.isEmpty()) return deleted;
            String[] ids = page.stream().filter(m -> names(m.getBody().get("data"), clientId))
                    .map(StreamMessage::getId).toArray(String[]::new);
            if (ids.length > 0) deleted += redis.call(c -> c.xdel(stream, ids)).intValue();
            from = Range.Boundary.excluding(page.getLast().getId());
        }
    }

    private static boolean names(String data, String clientId) {
        if (data == null) return false;
        try {
            return clientId.equals(Json.read(data.getBytes(StandardCharsets.UTF_8), UsageUpdate.class).clientId());
        } catch (IllegalArgumentException e) {
            return false; // another writer's entry: not the client's announcement
        }
    }

    private void scan(String match, Consumer<String> each) {
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            ScanCursor from = cursor;
            KeyScanCursor<String> page = redis.call(c -> c.scan(from, ScanArgs.Builder.matches(match).limit(SCAN_COUNT)));
            page.getKeys().forEach(each);
            cursor = page;
        } while (!cursor.isFinished());
    }
}
