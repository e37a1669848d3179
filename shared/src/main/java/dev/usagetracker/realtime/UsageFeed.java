package dev.usagetracker.realtime;

import dev.usagetracker.http.Json;
import dev.usagetracker.redis.Redis;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reading side of {@link UsageEvents}: the live channel, for a long-lived process, and the capped
 * stream behind it, to resume after an event id (SSE Last-Event-ID) or to fill what a lost subscription
 * missed (Pub/Sub delivers only to whoever is subscribed at that moment).
 */
public final class UsageFeed {
    private static final Logger LOG = LoggerFactory.getLogger(UsageFeed.class);
    /** A Redis stream id: milliseconds-sequence. */
    private static final Pattern EVENT_ID = Pattern.compile("\\d{1,19}-\\d{1,19}");

    private final Redis redis;

    /** Called on Lettuce's I/O thread: must not block. */
    public interface Listener {
        void update(UsageUpdate update);

        /** Subscribed again after the connection was lost: what was published meanwhile was missed. */
        void resubscribed();
    }

    /** A subscription to the channel, on a connection of its own. */
    public interface Channel extends AutoCloseable {
        /** Connected (Lettuce reconnects and re-subscribes a lost connection by itself). */
        boolean isOpen();

        @Override
        void close();
    }

    public UsageFeed(Redis redis) {
        this.redis = redis;
    }

    public static boolean isEventId(String id) {
        return id != null && EVENT_ID.matcher(id).matches();
    }

    /** The milliseconds part of a stream id: when Redis added the entry. */
    public static long millisOf(String id) {
        return Long.parseUnsignedLong(id.substring(0, id.indexOf('-')));
    }

    /** Orders stream ids numerically ("10-0" after "9-5"). */
    public static int compareIds(String a, String b) {
        String[] x = a.split("-", 2);
        String[] y = b.split("-", 2);
        int c = Long.compareUnsigned(Long.parseUnsignedLong(x[0]), Long.parseUnsignedLong(y[0]));
        return c != 0 ? c : Long.compareUnsigned(Long.parseUnsignedLong(x[1]), Long.parseUnsignedLong(y[1]));
    }

    /** Announcements after {@code eventId} (exclusive), oldest first, at most {@code limit}. */
    public List<UsageUpdate> after(String eventId, int limit) {
        if (!isEventId(eventId)) throw new IllegalArgumentException("not a stream id");
        List<StreamMessage<String, String>> entries = redis.call(c -> c.xrange(UsageEvents.stream(redis),
                Range.from(Range.Boundary.excluding(eventId), Range.Boundary.unbounded()), Limit.create(0, limit)));
        List<UsageUpdate> updates = new ArrayList<>(entries.size());
        for (StreamMessage<String, String> entry : entries) {
            String data = entry.getBody().get("data");
            if (data == null) continue;
            parse(data).map(u -> u.withEventId(entry.getId())).ifPresent(updates::add);
        }
        return updates;
    }

    /** Subscribes on a new connection; throws if Redis cannot be reached now. */
    public Channel subscribe(Listener listener) {
        StatefulRedisPubSubConnection<String, String> connection = redis.connectPubSub();
        AtomicBoolean first = new AtomicBoolean(true);
        String channel = UsageEvents.channel(redis);
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String from, String message) {
                if (channel.equals(from)) parse(message).filter(u -> isEventId(u.eventId())).ifPresent(listener::update);
            }

            @Override
            public void subscribed(String to, long count) {
                if (!first.compareAndSet(true, false)) listener.resubscribed();
            }
        });
        try {
            connection.async().subscribe(channel).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            connection.close();
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("cannot subscribe to " + channel + ": " + e.getClass().getSimpleName(), e);
        }
        return new Channel() {
            @Override
            public boolean isOpen() {
                return connection.isOpen();
            }

            @Override
            public void close() {
                connection.close();
            }
        };
    }

    private static java.util.Optional<UsageUpdate> parse(String json) {
        try {
            return java.util.Optional.of(Json.read(json.getBytes(StandardCharsets.UTF_8), UsageUpdate.class));
        } catch (IllegalArgumentException e) {
            // Another writer's record or a newer shape: skip it rather than stop the feed.
            LOG.warn("skipped an unreadable usage announcement");
            return java.util.Optional.empty();
        }
    }
}
