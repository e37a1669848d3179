package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.redis.Redis;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /api/usage/stream} as Server-Sent Events, for a long-lived process (the local runtime, a
 * container deployment; a Lambda function cannot hold a response open for a client). Each stream gets
 * a {@code retry:} hint, then the updates its viewer may see as {@code id:}/{@code event: usage}/
 * {@code data:} events, a heartbeat comment when idle, and ends when the client leaves, at the {@code exp}
 * of the token that opened it, within 5 s of its viewer losing access, or when it falls so far behind
 * that its buffer fills (the client then resumes with Last-Event-ID). A stream resumed with
 * Last-Event-ID first replays what its viewer missed from the capped Redis stream, then goes live.
 */
public final class UsageStream {
    public static final String LAST_EVENT_ID = "Last-Event-ID";
    /** EventSource cannot set headers on its first request: a page that re-opens a stream passes it here. */
    public static final String LAST_EVENT_ID_PARAM = "last_event_id";

    private final UsageHub hub;
    private final UsageFeed feed;
    private final StreamSettings settings;
    private final Duration maxAge;
    private final Registrations registrations;
    private final Clock clock;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Integer> perClient = new ConcurrentHashMap<>();

    /** Writes a chunk of the response and flushes it; throws when the client is gone. */
    @FunctionalInterface
    public interface Sink {
        void send(String text) throws IOException;
    }

    /** Why a stream ended. */
    public enum End { CLIENT_LEFT, EXPIRED, ACCESS_ENDED, FELL_BEHIND, INTERRUPTED }

    /** When a client registered ({@code Authenticator#registeredAt}); empty when it does not exist. */
    @FunctionalInterface
    public interface Registrations {
        Optional<Instant> registeredAt(String clientId);
    }

    public UsageStream(UsageHub hub, UsageFeed feed, StreamSettings settings, Duration maxAge, Registrations registrations) {
        this(hub, feed, settings, maxAge, registrations, Clock.systemUTC());
    }

    /**
     * {@code maxAge} bounds a stream even if its token lived longer; {@code clock} tells when a token's exp is
     * reached; {@code registrations} bound a replay to what happened since the viewer registered.
     */
    public UsageStream(UsageHub hub, UsageFeed feed, StreamSettings settings, Duration maxAge, Registrations registrations,
                       Clock clock) {
        this.hub = hub;
        this.feed = feed;
        this.settings = settings;
        this.maxAge = maxAge;
        this.registrations = registrations;
        this.clock = clock;
    }

    /** The Last-Event-ID header (EventSource's reconnections) or parameter; 400 if it is not a stream id. */
    public static Optional<String> lastEventId(HttpRequest request) {
        Optional<String> id = request.header(LAST_EVENT_ID).or(() -> request.queryParam(LAST_EVENT_ID_PARAM));
        if (id.isPresent() && !UsageFeed.isEventId(id.get())) {
            throw ApiException.validation(List.of(new ApiException.FieldError(LAST_EVENT_ID,
                    "must be an event id this stream sent (digits-digits)")));
        }
        return id;
    }

    /** Streams open in this process. */
    public int open() {
        return open.get();
    }

    /**
     * Admits a stream before its response starts: 429 over the process's or the client's stream limit,
     * 503 while the usage channel is down. Subscribes first and reads the replay second, so nothing
     * published in between is lost. The session must be closed. A credential whose token has expired
     * already is refused (401), as the ticket or token would be.
     */
    public Session open(StreamCredential credential, Optional<String> lastEventId) {
        Principal viewer = credential.principal();
        if (credential.expiredAt(clock.instant())) throw ApiException.unauthorized("The access token is invalid or expired.");
        if (!viewer.has(Principal.SCOPE_USAGE_READ)) throw ApiException.forbidden("This credential may not read usage.");
        if (!hub.live()) throw ApiException.unavailable("Live updates are unavailable right now; retry later.", 5);
        if (open.incrementAndGet() > settings.maxStreams()) {
            open.decrementAndGet();
            throw ApiException.tooManyRequests("This server has as many open streams as it takes; retry later.", 5, Map.of());
        }
        try {
            perClient.compute(viewer.clientId(), (id, n) -> {
                int streams = n == null ? 0 : n;
                if (streams >= settings.maxStreamsPerClient()) {
                    throw ApiException.tooManyRequests("This client has " + settings.maxStreamsPerClient()
                            + " streams open already; close one first.", 5, Map.of());
                }
                return streams + 1;
            });
        } catch (ApiException e) {
            open.decrementAndGet();
            throw e;
        }
        Session session = new Session(credential);
        try {
            if (lastEventId.isPresent()) {
                // Never before the viewer registered: its id may have been an erased client's (issue 22).
                long since = registrations.registeredAt(viewer.clientId()).map(Instant::toEpochMilli).orElse(Long.MAX_VALUE);
                session.replay = feed.after(lastEventId.get(), (int) UsageEvents.STREAM_LENGTH).stream()
                        .filter(u -> UsageFeed.millisOf(u.eventId()) >= since)
                        .filter(u -> UsageMessage.visibleTo(viewer, u.clientId())).toList();
            }
            return session;
        } catch (Redis.UnavailableException e) {
            session.close();
            throw ApiException.unavailable("Live updates are unavailable right now; retry later.", 5);
        }
    }

    /** One client's stream: admitted and subscribed, not yet writing. */
    public final class Session implements AutoCloseable {
        private final Principal viewer;
        private final Instant expiresAt;
        private final BlockingQueue<UsageUpdate> queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        private final AtomicBoolean overflow = new AtomicBoolean();
        private final AtomicBoolean closed = new AtomicBoolean();
        private final UsageHub.Subscription subscription;
        private List<UsageUpdate> replay = List.of();

        private Session(StreamCredential credential) {
            this.viewer = credential.principal();
            this.expiresAt = credential.expiresAt();
            this.subscription = hub.subscribe(viewer, u -> {
                if (!queue.offer(u)) overflow.set(true);
            });
        }

        public Principal viewer() {
            return viewer;
        }

        /** When the token that opened this stream expires, and so the stream ends. */
        public Instant expiresAt() {
            return expiresAt;
        }

        /**
         * Writes until the stream ends: at the token's {@code exp} (scheduled for that instant, not
         * noticed at a heartbeat), when {@code stillAllowed} — asked every {@link StreamSettings#recheck()},
         * at most 5 s apart — says the viewer may no longer read (a revocation: the client is gone or
         * disabled, the key rotated away, the address no longer allowed), when the client leaves or falls
         * behind. An ending the server decides is told to the client as a last {@code event: end}.
         */
        public End run(Sink sink, BooleanSupplier stillAllowed) {
            long started = System.nanoTime();
            long heartbeat = settings.heartbeat().toNanos();
            long recheck = settings.recheck().toNanos();
            long untilExpiry = Math.max(0, Duration.between(clock.instant(), expiresAt).toNanos());
            try {
                sink.send("retry: " + settings.retry().toMillis() + "\n: usage updates for "
                        + (viewer.isAdmin() ? "every client" : viewer.clientId()) + "\n\n");
                Set<String> replayed = new HashSet<>();
                for (UsageUpdate u : replay) {
                    sink.send(event(u));
                    replayed.add(u.eventId());
                }
                long deadline = started + Math.min(maxAge.toNanos(), untilExpiry);
                long nextBeat = System.nanoTime() + heartbeat;
                long nextCheck = System.nanoTime() + recheck;
                while (true) {
                    long now = System.nanoTime();
                    if (now - deadline >= 0) {
                        sink.send(END_EXPIRED);
                        return End.EXPIRED;
                    }
                    if (now - nextCheck >= 0) {
                        if (!stillAllowed.getAsBoolean()) {
                            sink.send(END_REVOKED);
                            return End.ACCESS_ENDED;
                        }
                        nextCheck = System.nanoTime() + recheck;
                        continue;
                    }
                    if (now - nextBeat >= 0) {
                        sink.send(": heartbeat\n\n");
                        nextBeat = now + heartbeat;
                        continue;
                    }
                    long wait = Math.min(Math.min(nextBeat, nextCheck), deadline) - now;
                    UsageUpdate u = queue.poll(wait, TimeUnit.NANOSECONDS);
                    if (overflow.get()) return End.FELL_BEHIND;
                    if (u != null && !replayed.contains(u.eventId())) sink.send(event(u));
                }
            } catch (IOException e) {
                return End.CLIENT_LEFT;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return End.INTERRUPTED;
            }
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) return;
            subscription.close();
            perClient.computeIfPresent(viewer.clientId(), (id, n) -> n <= 1 ? null : n - 1);
            open.decrementAndGet();
        }
    }

    /** The last event of a stream that ended at its token's exp: reconnect with a fresh token. */
    public static final String END_EXPIRED = "event: end\ndata: {\"reason\":\"expired\"}\n\n";
    /** The last event of a stream whose credential was revoked (or whose address is no longer allowed). */
    public static final String END_REVOKED = "event: end\ndata: {\"reason\":\"revoked\"}\n\n";

    /** One SSE event: the stream id, the event name, the message as one line of JSON. */
    public static String event(UsageUpdate update) {
        if (update.isThreshold()) {
            return "id: " + update.eventId() + "\nevent: " + UsageUpdate.THRESHOLD_EVENT + "\ndata: " + update.thresholdJson() + "\n\n";
        }
        return "id: " + update.eventId() + "\nevent: " + UsageMessage.EVENT + "\ndata: " + UsageMessage.of(update).json() + "\n\n";
    }
}
