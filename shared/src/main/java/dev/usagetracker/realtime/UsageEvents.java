package dev.usagetracker.realtime;

import dev.usagetracker.http.Json;
import dev.usagetracker.redis.Redis;
import io.lettuce.core.XAddArgs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces aggregate changes: each update is appended to the capped stream {@code <prefix>usage:events}
 * (field {@code data}, the update as JSON; the stream id is the event id, so a reader can resume after
 * any id) and then published on the channel {@code <prefix>usage.updated} with its event id. Lambdas
 * publish; long-lived processes subscribe (a frozen Lambda container cannot hold a subscription).
 * Best effort: if Redis is down nothing is announced, and readers fall back to the tables.
 */
public final class UsageEvents {
    private static final Logger LOG = LoggerFactory.getLogger(UsageEvents.class);
    /** About a minute of announcements at 150/s: enough to resume a dropped stream. */
    public static final long STREAM_LENGTH = 10_000;

    private final Redis redis;

    public UsageEvents(Redis redis) {
        this.redis = redis;
    }

    public static String stream(Redis redis) {
        return redis.key("usage", "events");
    }

    public static String channel(Redis redis) {
        return redis.key("usage.updated");
    }

    /** Returns the updates with their event ids (as published), or none if Redis could not take them. */
    public List<UsageUpdate> publish(List<UsageUpdate> updates) {
        if (updates.isEmpty()) return List.of();
        try {
            List<CompletableFuture<String>> ids = new ArrayList<>();
            for (UsageUpdate u : updates) {
                String data = new String(Json.write(u.withEventId("")), StandardCharsets.UTF_8);
                ids.add(redis.submit(c -> c.xadd(stream(redis), XAddArgs.Builder.maxlen(STREAM_LENGTH).approximateTrimming(),
                        Map.of("data", data))));
            }
            List<UsageUpdate> published = new ArrayList<>();
            List<CompletableFuture<Long>> sent = new ArrayList<>();
            for (int i = 0; i < updates.size(); i++) {
                UsageUpdate u = updates.get(i).withEventId(redis.await(ids.get(i)));
                published.add(u);
                String message = new String(Json.write(u), StandardCharsets.UTF_8);
                sent.add(redis.submit(c -> c.publish(channel(redis), message)));
            }
            for (CompletableFuture<Long> f : sent) redis.await(f);
            return published;
        } catch (Redis.UnavailableException e) {
            LOG.warn("usage updates not announced: redis unavailable ({})", e.getMessage());
            return List.of();
        }
    }
}
