package dev.usagetracker.client;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * Reports the hits a service serves to usage-tracker ({@code POST /api/logs}) off the caller's request
 * path: {@link #record} puts a hit into a bounded in-memory buffer and returns at once; one daemon
 * sender thread per tracker sends the buffer in batches (at most 500 hits and 256 KiB, when a batch is
 * full or the flush interval has passed), each batch under an {@code Idempotency-Key} that it keeps on
 * every retry, so that a batch is counted once however often it is re-sent.
 *
 * <p>What happens on each answer of the server (see docs/sdk.md for the table): {@code 202} →
 * acknowledged; {@code 429} → wait {@code Retry-After}, then the same batch again; the {@code RateLimit}
 * header paces the sending (fewer, larger batches as the remaining quota shrinks); {@code 503}, other
 * {@code 5xx}, {@code 408} and network errors → the same batch again after an exponential backoff with
 * full jitter (0.5 s base, 30 s cap); {@code 400} whose {@code errors[]} name hits ({@code hits[3].ip}) →
 * those hits are rejected, the rest are sent as a new batch with a new key, unless an earlier attempt of
 * the batch may have landed (a network error, timeout or 5xx): then the whole batch is rejected, never
 * re-sent under a new key; batches are cut to the smallest {@code ingest_hits} policy that
 * {@code RateLimit-Policy} names (a batch above it is a 400: it is cut and sent again); a batch held
 * longer than the server keeps its key ({@link #IDEMPOTENCY_KEY_LIFE}) is dropped and reported, never
 * sent again under a forgotten key; any other {@code 4xx} about the batch → its hits are rejected; {@code 401}/{@code 403} (and {@code 404}: a wrong base URL) →
 * sending stops and the {@link Listener} hears it, hits keep being buffered until the buffer is full,
 * and the batch is tried again after {@link Builder#authRetryInterval}.
 *
 * <p>At every moment {@code recorded == acknowledged + pending + dropped + rejected} ({@link Stats}).
 * Thread-safe; create one per process and {@link #close()} it on shutdown (the sender is a daemon
 * thread: hits not flushed when the JVM exits are lost).
 *
 * <pre>{@code
 * UsageTracker tracker = UsageTracker.builder(URI.create("https://api.example.com"), apiKey).build();
 * tracker.record("203.0.113.7", "/api/orders/{id}");
 * tracker.close();
 * }</pre>
 */
public final class UsageTracker implements AutoCloseable {
    /** The server's limit of hits per request. */
    public static final int MAX_BATCH_SIZE = 500;
    /** The server's limit of a request body (larger is {@code 413}). */
    public static final int MAX_BATCH_BYTES = 256 * 1024;
    /** The server's limit of an endpoint's length. */
    public static final int MAX_ENDPOINT_LENGTH = 2048;
    /** The server's limit of a method's length. */
    public static final int MAX_METHOD_LENGTH = 16;
    /** The server's limit of a duration: an hour, in milliseconds. */
    public static final double MAX_DURATION_MILLIS = 3_600_000;
    /** How long the server keeps an Idempotency-Key: a batch is never sent again under a key older than this. */
    public static final Duration IDEMPOTENCY_KEY_LIFE = Duration.ofHours(24);
    /** After {@code closeTimeout}, how long close() gives the interrupted sender to count what it held. */
    private static final long ABANDON_MILLIS = 1_000;

    final Config config;
    private final ConcurrentLinkedQueue<Hit> queue = new ConcurrentLinkedQueue<>();
    /** Hits held by the tracker: buffered, in a batch being sent or waiting for a retry. Bounded. */
    final AtomicInteger held = new AtomicInteger();
    /** Hits in {@link #queue}, not yet in a batch: a full batch's worth wakes the sender. */
    final AtomicInteger queued = new AtomicInteger();
    final LongAdder recorded = new LongAdder();
    final LongAdder acknowledged = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder retried = new LongAdder();
    /** Hits dropped because {@link #record} itself failed (a clock that throws), and the last failure's class. */
    final LongAdder recordFailures = new LongAdder();
    volatile String lastRecordFailure = "";
    /** Hits whose method, status or duration was left out as invalid (reported by the sender). */
    final LongAdder invalidMethods = new LongAdder();
    final LongAdder invalidStatuses = new LongAdder();
    final LongAdder invalidDurations = new LongAdder();
    /**
     * Hits per batch now: {@code maxBatchSize}, or less while the server names a smaller {@code ingest_hits}
     * policy (set by the sender; read by {@link #record} to wake it when a batch is full).
     */
    volatile int batchLimit;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set by the sender when it has stopped: from then on every hit still held is dropped. */
    volatile boolean terminated;
    private final Sender sender;
    private final Thread thread;

    private UsageTracker(Config config) {
        this.config = config;
        this.batchLimit = config.maxBatchSize;
        this.sender = new Sender(this, config);
        this.thread = new Thread(sender::run, "usage-tracker-sender-" + Integer.toHexString(System.identityHashCode(this)));
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * A builder for a tracker that posts to {@code baseUrl} + {@code /api/logs}.
     *
     * @param baseUrl the service's base URL, e.g. {@code https://abc.execute-api.eu-west-1.amazonaws.com} or
     *                {@code http://127.0.0.1:3000} (a path such as an API Gateway stage is kept)
     * @param apiKey  the client's API key (sent as {@code X-API-Key}; never printed)
     */
    public static Builder builder(URI baseUrl, String apiKey) {
        return new Builder(baseUrl, apiKey);
    }

    /**
     * Records a hit that happened now. Never blocks and never throws.
     *
     * @return {@code true} if the hit was buffered; {@code false} if it was dropped (buffer full, tracker
     *         closed) or rejected (an {@code ip} or {@code endpoint} the server would refuse)
     */
    public boolean record(String ip, String endpoint) {
        return enqueue(ip, endpoint, null, null, null, null);
    }

    /**
     * Records a hit with its own timestamp ({@code null}: now). Never blocks and never throws.
     *
     * @return as {@link #record(String, String)}
     */
    public boolean record(String ip, String endpoint, Instant timestamp) {
        return enqueue(ip, endpoint, timestamp, null, null, null);
    }

    /**
     * Records a hit with what the tracker knows about it: {@code Hit.of(ip, endpoint).withMethod("GET")
     * .withStatus(200).withDurationMillis(12.5)}. Never blocks and never throws. A method, status or duration
     * the server would refuse is left out of the hit (the hit itself is kept) and reported to
     * {@link Listener#onFieldDropped}.
     *
     * @return as {@link #record(String, String)}
     */
    public boolean record(Hit hit) {
        if (hit == null) {
            recorded.increment();
            rejected.increment();
            return false;
        }
        return enqueue(hit.ip(), hit.endpoint(), hit.timestamp(), hit.method(), hit.status(), hit.durationMillis());
    }

    private boolean enqueue(String ip, String endpoint, Instant timestamp, String method, Integer status, Double durationMillis) {
        recorded.increment();
        // how far this call got: 0 nothing taken, 1 a place in the buffer taken, 2 the hit queued
        int stage = 0;
        try {
            ip = withoutZone(ip);
            if (!plausibleIp(ip) || !plausibleEndpoint(endpoint)) {
                rejected.increment();
                return false;
            }
            if (terminated) {
                dropped.increment();
                return false;
            }
            // the clock before a place is taken: a clock that throws must not keep one for ever (issue 29, finding 9)
            Instant at = timestamp != null ? timestamp : config.clock.instant();
            if (method != null && !validMethod(method)) {
                invalidMethods.increment();
                method = null;
            }
            if (status != null && !validStatus(status)) {
                invalidStatuses.increment();
                status = null;
            }
            if (durationMillis != null && !validDuration(durationMillis)) {
                invalidDurations.increment();
                durationMillis = null;
            }
            if (held.incrementAndGet() > config.maxBufferedHits) {
                held.decrementAndGet();
                dropped.increment();
                return false;
            }
            stage = 1;
            queue.offer(new Hit(ip, endpoint, at, method, status, durationMillis));
            stage = 2;
            if (queued.incrementAndGet() == batchLimit) config.ticker.wake();
            if (terminated) dropQueued();
            return true;
        } catch (RuntimeException | Error e) {
            // an OutOfMemoryError or a broken clock must not reach the caller's request; the hit is given up
            // and counted, so that the books still add up and the sender reports it
            if (stage == 2) return true;
            if (stage == 1) held.decrementAndGet();
            lastRecordFailure = e.getClass().getSimpleName();
            recordFailures.increment();
            dropped.increment();
            return false;
        }
    }

    /**
     * Sends every hit recorded before this call now, without waiting for the flush interval.
     *
     * @return a future that completes when each of those hits is acknowledged or rejected, and
     *         completes exceptionally ({@link UsageTrackerException}) when sending is stopped
     *         ({@code 401}/{@code 403}) or the tracker closes before they could be sent
     */
    public CompletableFuture<Void> flush() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (terminated) {
            if (held.get() == 0) f.complete(null);
            else f.completeExceptionally(new UsageTrackerException("the tracker is closed"));
            return f;
        }
        sender.requestFlush(f);
        config.ticker.wake();
        // The sender may have ended between the check above and the request (close, or a failure): it
        // drains flush requests as it ends, but one that came after that would wait for ever.
        if (terminated && !f.isDone()) {
            if (held.get() == 0) f.complete(null);
            else f.completeExceptionally(new UsageTrackerException("the tracker is closed"));
        }
        return f;
    }

    /**
     * Sends what is buffered and stops the sender, waiting at most {@link Builder#closeTimeout} (plus up to
     * a second to stop a sender that is still busy then); hits
     * that could not be sent by then are counted as dropped (and reported to the listener), so that
     * afterwards {@code pending == 0}. Idempotent; {@link #record} after close drops.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            joinQuietly(config.closeTimeout.toMillis() + ABANDON_MILLIS);
            return;
        }
        sender.closing = true;
        config.ticker.wake();
        joinQuietly(Math.max(1, config.closeTimeout.toMillis()));
        if (thread.isAlive()) {
            // an interrupted request or park ends at once; the bound is for a listener that takes its time
            sender.abandon = true;
            thread.interrupt();
            config.ticker.wake();
            joinQuietly(ABANDON_MILLIS);
        }
        dropQueued();
        config.http.shutdownNow();
    }

    /** A consistent snapshot of the counters; {@code recorded == acknowledged + pending + dropped + rejected}. */
    public Stats stats() {
        // outcomes first, recorded last: every hit counted in an outcome was recorded before, so pending >= 0
        long a = acknowledged.sum();
        long r = rejected.sum();
        long d = dropped.sum();
        long t = retried.sum();
        long rec = recorded.sum();
        return new Stats(rec, a, d, r, t, rec - a - d - r);
    }

    /** The base URL and the counters; never the API key. */
    @Override
    public String toString() {
        return "UsageTracker[" + config.endpoint + ", " + stats() + "]";
    }

    private void joinQuietly(long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Called by the sender once stopped, and by anyone who finds a hit queued after that. */
    void dropQueued() {
        long n = 0;
        Hit h;
        while ((h = queue.poll()) != null) {
            queued.decrementAndGet();
            n++;
        }
        if (n > 0) {
            held.addAndGet((int) -n);
            dropped.add(n);
        }
    }

    /** Takes one hit out of the buffer (sender only). */
    Hit poll() {
        Hit h = queue.poll();
        if (h != null) queued.decrementAndGet();
        return h;
    }

    /** {@code fe80::1%eth0} (a link-local peer as a servlet container may give it) → {@code fe80::1}. */
    static String withoutZone(String ip) {
        int zone = ip == null ? -1 : ip.indexOf('%');
        return zone > 0 ? ip.substring(0, zone) : ip;
    }

    static boolean plausibleIp(String ip) {
        if (ip == null || ip.length() < 2 || ip.length() > 45) return false;
        for (int i = 0; i < ip.length(); i++) {
            char c = ip.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':')) return false;
        }
        return true;
    }

    static boolean plausibleEndpoint(String endpoint) {
        if (endpoint == null || endpoint.isEmpty() || endpoint.length() > MAX_ENDPOINT_LENGTH || endpoint.charAt(0) != '/') return false;
        for (int i = 0; i < endpoint.length(); i++) {
            char c = endpoint.charAt(i);
            if (c <= 0x20 || c == 0x7f || Character.isWhitespace(c) || Character.isISOControl(c)
                    || Character.getType(c) == Character.FORMAT) {
                return false;
            }
        }
        return true;
    }

    /** An HTTP method token (RFC 9110 §9.1: tchar) of 1 to 16 characters, as the server accepts it. */
    static boolean validMethod(String method) {
        int n = method.length();
        if (n == 0 || n > MAX_METHOD_LENGTH) return false;
        for (int i = 0; i < n; i++) {
            char c = method.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    static boolean validStatus(int status) {
        return status >= 100 && status <= 599;
    }

    static boolean validDuration(double millis) {
        return millis >= 0 && millis <= MAX_DURATION_MILLIS; // false for NaN
    }

    /**
     * One hit as {@link #record(Hit)} takes it: where it came from and what it asked for, and optionally
     * when it happened ({@code null}: at {@code record}), its HTTP method, the status it was answered with
     * and how long that took in milliseconds ({@code null}: unknown). The same fields as the TypeScript
     * SDK's {@code record({ip, endpoint, timestamp, method, status, durationMs})} and the Python SDK's
     * keyword arguments (docs/sdk.md).
     */
    public record Hit(String ip, String endpoint, Instant timestamp, String method, Integer status, Double durationMillis) {
        /** A hit from {@code ip} to {@code endpoint}, at the moment it is recorded, with nothing else known. */
        public static Hit of(String ip, String endpoint) {
            return new Hit(ip, endpoint, null, null, null, null);
        }

        public Hit withTimestamp(Instant t) {
            return new Hit(ip, endpoint, t, method, status, durationMillis);
        }

        public Hit withMethod(String m) {
            return new Hit(ip, endpoint, timestamp, m, status, durationMillis);
        }

        public Hit withStatus(int s) {
            return new Hit(ip, endpoint, timestamp, method, s, durationMillis);
        }

        public Hit withDurationMillis(double ms) {
            return new Hit(ip, endpoint, timestamp, method, status, ms);
        }

        /** From nanoseconds, e.g. the difference of two {@link System#nanoTime()} readings. */
        public Hit withDurationNanos(long nanos) {
            return withDurationMillis(nanos / 1e6);
        }
    }

    /**
     * The tracker's counters, in hits except {@code retried}.
     *
     * @param recorded     calls of {@link UsageTracker#record}
     * @param acknowledged hits the server accepted ({@code 202}): counted exactly once
     * @param dropped      hits given up on the client side: buffer full, still unsent when {@code close()} gave up,
     *                     held longer than the server keeps their batch's Idempotency-Key, or {@code record} failed
     * @param rejected     hits the server refused as invalid ({@code 400}/{@code 4xx}), or that the tracker knew it would
     * @param retried      requests sent again (same batch, same Idempotency-Key) after a 429, 5xx, network error or 401/403
     * @param pending      hits held by the tracker: buffered, or in a batch not yet acknowledged
     */
    public record Stats(long recorded, long acknowledged, long dropped, long rejected, long retried, long pending) {}

    /**
     * Hears what the sender does with the hits, on the sender thread (never on the caller's): implement
     * only what you need; keep it quick; an exception thrown here is ignored.
     */
    public interface Listener {
        /**
         * The server refused the API key ({@code 401}), the client is not allowed ({@code 403}) or the URL is wrong
         * ({@code 404}): sending has stopped; hits are buffered until the buffer is full, and the batch is tried
         * again after the auth retry interval.
         */
        default void onSendingStopped(int status, String problemType, String detail) {}

        /** A request went through again after {@link #onSendingStopped}. */
        default void onSendingResumed() {}

        /** {@code hits} were refused by the server ({@code 4xx}) and will not be sent again. */
        default void onRejected(int hits, int status, String detail) {}

        /**
         * {@code hits} were dropped on this side: {@code reason} says why (buffer full, closed, a batch held longer
         * than the server keeps its Idempotency-Key, {@code record} failed).
         */
        default void onDropped(long hits, String reason) {}

        /**
         * {@code hits} were recorded without their {@code field} ({@code method}, {@code status} or
         * {@code duration_ms}) because its value is one the server would refuse; the hits themselves were kept.
         */
        default void onFieldDropped(String field, long hits, String reason) {}

        /**
         * A batch will be sent again after {@code delay}: {@code status} is the HTTP status, or 0 for a network
         * error (then {@code detail} names the exception class).
         */
        default void onRetry(int status, Duration delay, int attempt, String detail) {}
    }

    /** Configures a {@link UsageTracker}; every setting has a default. */
    public static final class Builder {
        private final URI baseUrl;
        private final String apiKey;
        private Duration flushInterval = Duration.ofSeconds(1);
        private int maxBatchSize = MAX_BATCH_SIZE;
        private int maxBufferedHits = 10_000;
        private Duration closeTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration authRetryInterval = Duration.ofMinutes(1);
        private Duration backoffBase = Duration.ofMillis(500);
        private Duration backoffCap = Duration.ofSeconds(30);
        private Listener listener = new Listener() {};
        private Clock clock = Clock.systemUTC();
        private Ticker ticker;
        private DoubleSupplier random;

        private Builder(URI baseUrl, String apiKey) {
            this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
            this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
            if (apiKey.isBlank()) throw new IllegalArgumentException("apiKey is blank");
            String scheme = baseUrl.getScheme();
            if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme) || baseUrl.getHost() == null) {
                throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL");
            }
        }

        /** How long a hit may wait for a batch to fill before it is sent anyway (default 1 s). */
        public Builder flushInterval(Duration d) {
            flushInterval = positive(d, "flushInterval");
            return this;
        }

        /** Hits per request, 1 to 500 (default 500); a batch is also cut at 256 KiB. */
        public Builder maxBatchSize(int n) {
            if (n < 1 || n > MAX_BATCH_SIZE) throw new IllegalArgumentException("maxBatchSize must be 1.." + MAX_BATCH_SIZE);
            maxBatchSize = n;
            return this;
        }

        /** Hits held at most, buffered or being sent (default 10,000); more are dropped and counted. */
        public Builder maxBufferedHits(int n) {
            if (n < 1) throw new IllegalArgumentException("maxBufferedHits must be positive");
            maxBufferedHits = n;
            return this;
        }

        /** How long {@link UsageTracker#close()} may take to send what is left (default 10 s). */
        public Builder closeTimeout(Duration d) {
            closeTimeout = nonNegative(d, "closeTimeout");
            return this;
        }

        /** The timeout of one HTTP request (default 10 s); a timeout is retried like a network error. */
        public Builder requestTimeout(Duration d) {
            requestTimeout = positive(d, "requestTimeout");
            return this;
        }

        /** After a {@code 401}/{@code 403}/{@code 404}, how long to wait before trying again (default 1 min). */
        public Builder authRetryInterval(Duration d) {
            authRetryInterval = positive(d, "authRetryInterval");
            return this;
        }

        /** The exponential backoff on 5xx and network errors: full jitter over {@code min(cap, base·2^n)} (0.5 s, 30 s). */
        public Builder retryBackoff(Duration base, Duration cap) {
            backoffBase = positive(base, "base");
            backoffCap = positive(cap, "cap");
            if (cap.compareTo(base) < 0) throw new IllegalArgumentException("cap < base");
            return this;
        }

        /** Where the sender reports stops, rejections, drops and retries (default: nowhere). */
        public Builder listener(Listener l) {
            listener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /** The clock that timestamps hits (default UTC system clock). */
        public Builder clock(Clock c) {
            clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        Builder ticker(Ticker t) {
            ticker = t;
            return this;
        }

        Builder random(DoubleSupplier r) {
            random = r;
            return this;
        }

        /** Starts the tracker (and its sender thread). */
        public UsageTracker build() {
            String base = baseUrl.toString();
            while (base.endsWith("/")) base = base.substring(0, base.length() - 1);
            URI endpoint = URI.create(base + "/api/logs");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(requestTimeout.compareTo(Duration.ofSeconds(5)) < 0 ? requestTimeout : Duration.ofSeconds(5))
                    .followRedirects(HttpClient.Redirect.NEVER).build();
            Random rnd = new Random();
            return new UsageTracker(new Config(endpoint, apiKey, flushInterval, maxBatchSize, maxBufferedHits, closeTimeout,
                    requestTimeout, authRetryInterval, backoffBase, backoffCap, listener, clock,
                    ticker != null ? ticker : new Ticker.Real(), random != null ? random : rnd::nextDouble, http));
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " must be positive");
            return d;
        }

        private static Duration nonNegative(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative()) throw new IllegalArgumentException(name + " must not be negative");
            return d;
        }
    }

    /** The built settings (immutable). */
    record Config(URI endpoint, String apiKey, Duration flushInterval, int maxBatchSize, int maxBufferedHits,
                  Duration closeTimeout, Duration requestTimeout, Duration authRetryInterval, Duration backoffBase,
                  Duration backoffCap, Listener listener, Clock clock, Ticker ticker, DoubleSupplier random,
                  HttpClient http) {
        @Override
        public String toString() {
            return "Config[" + endpoint + "]";
        }
    }
}
