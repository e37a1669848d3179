package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription to the usage channel per process, fanned out to every live client of that process
 * (SSE streams, local WebSocket connections), never one subscription per client. Delivery is at most
 * once per announcement: duplicates (a re-read after a lost subscription) are dropped, and so is an
 * update that would move a (client, day) count backwards — two consumers can publish out of order, and a
 * day's count only grows. After Lettuce re-subscribes a lost connection, what was published meanwhile
 * is read back from the stream.
 */
public final class UsageHub implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageHub.class);
    /** How many event ids and (client, day) counts are remembered for de-duplication. */
    private static final int REMEMBERED = 10_000;

    private final UsageFeed feed;
    private final Duration retry;
    private final Set<Registration> subscribers = ConcurrentHashMap.newKeySet();
    private final Map<String, Boolean> seen = lru();
    private final Map<String, Long> latest = lru();
    private volatile String lastId;
    private volatile UsageFeed.Channel channel;
    private volatile boolean closed;
    private final Thread connector;

    /** A live client's interest; closing it stops delivery at once. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private record Registration(Predicate<UsageUpdate> filter, Consumer<UsageUpdate> sink) {}

    UsageHub(UsageFeed feed, Duration retry) {
        this.feed = feed;
        this.retry = retry;
        this.connector = Thread.ofVirtual().name("usage-hub-connector").unstarted(this::connect);
    }

    /** Subscribes in the background, retrying every {@code retry} while Redis cannot be reached. */
    public static UsageHub start(UsageFeed feed, Duration retry) {
        UsageHub hub = new UsageHub(feed, retry);
        hub.connector.start();
        return hub;
    }

    /**
     * Delivers every update the filter accepts to {@code sink}, on the subscription's I/O thread: the
     * sink must not block (hand the update to a queue or an asynchronous send).
     */
    public Subscription subscribe(Predicate<UsageUpdate> filter, Consumer<UsageUpdate> sink) {
        Registration r = new Registration(filter, sink);
        subscribers.add(r);
        return () -> subscribers.remove(r);
    }

    /** What {@code viewer} may see: its own usage, or everyone's for the admin. */
    public Subscription subscribe(Principal viewer, Consumer<UsageUpdate> sink) {
        return subscribe(u -> UsageMessage.visibleTo(viewer, u.clientId()), sink);
    }

    /** Subscribed and connected: updates flow. */
    public boolean live() {
        UsageFeed.Channel c = channel;
        return c != null && c.isOpen();
    }

    /** Waits until {@link #live()} or the time is up; returns whether it is live. */
    public boolean awaitLive(Duration wait) throws InterruptedException {
        long end = System.nanoTime() + wait.toNanos();
        while (!live() && System.nanoTime() - end < 0 && !closed) Thread.sleep(20);
        return live();
    }

    public int subscribers() {
        return subscribers.size();
    }

    private void connect() {
        while (!closed && channel == null) {
            try {
                UsageFeed.Channel c = feed.subscribe(new UsageFeed.Listener() {
                    @Override
                    public void update(UsageUpdate update) {
                        dispatch(update);
                    }

                    @Override
                    public void resubscribed() {
                        Thread.ofVirtual().name("usage-hub-refill").start(UsageHub.this::refill);
                    }
                });
                if (closed) {
                    c.close();
                    return;
                }
                channel = c;
                LOG.info("subscribed to usage updates");
            } catch (RuntimeException e) {
                LOG.warn("cannot subscribe to usage updates yet ({}); retrying in {} ms", e.getClass().getSimpleName(), retry.toMillis());
                try {
                    Thread.sleep(retry);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** What was announced while the subscription was down, read back from the stream. */
    private void refill() {
        String after = lastId;
        if (after == null || closed) return;
        try {
            List<UsageUpdate> missed = feed.after(after, (int) UsageEvents.STREAM_LENGTH);
            missed.forEach(this::dispatch);
            if (!missed.isEmpty()) LOG.info("re-read {} usage updates missed while disconnected", missed.size());
        } catch (RuntimeException e) {
            LOG.warn("could not re-read missed usage updates ({})", e.getClass().getSimpleName());
        }
    }

    /** Serialised, so every sink sees updates one at a time and in one order (sinks do not block). */
    synchronized void dispatch(UsageUpdate update) {
        if (seen.put(update.eventId(), Boolean.TRUE) != null) return;
        if (lastId == null || UsageFeed.compareIds(update.eventId(), lastId) > 0) lastId = update.eventId();
        if (!update.isThreshold()) {
            String day = update.clientId() + "|" + update.date();
            Long known = latest.get(day);
            if (known != null && update.count() <= known) return;
            latest.put(day, update.count());
        }
        for (Registration r : subscribers) {
            try {
                if (r.filter().test(update)) r.sink().accept(update);
            } catch (RuntimeException e) {
                LOG.warn("a live client failed to take an update ({})", e.getClass().getSimpleName());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        connector.interrupt();
        UsageFeed.Channel c = channel;
        if (c != null) c.close();
        subscribers.clear();
    }

    private static <V> Map<String, V> lru() {
        return new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > REMEMBERED;
            }
        };
    }
}
