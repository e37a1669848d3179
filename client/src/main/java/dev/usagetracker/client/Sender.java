package dev.usagetracker.client;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sender thread of one {@link UsageTracker}: forms batches from the buffer, sends them one at a time
 * and acts on each answer (the table in the tracker's Javadoc). Everything here runs on that one thread,
 * except {@link #requestFlush} and the two flags.
 */
final class Sender {
    private static final Pattern HIT_FIELD = Pattern.compile("^hits\\[(\\d+)]");
    private static final Pattern NEW_FIELD = Pattern.compile("^hits\\[\\d+]\\.(method|status|duration_ms)$");
    private static final Pattern RATE_LIMIT_ITEM = Pattern.compile("\"[^\"]*\"((?:;[a-z]+=-?\\d+)*)");
    private static final Pattern PARAM = Pattern.compile(";([a-z]+)=(-?\\d+)");
    private static final Pattern NAMED_ITEM = Pattern.compile("\"([^\"]*)\"((?:;[a-z]+=-?\\d+)*)");
    /** The prefix of the policies that count hits rather than requests ({@code "ingest_hits-1m";q=300;w=60}). */
    private static final String HITS_POLICY = "ingest_hits-";
    /** A minute's margin on the key's life, for the two clocks' drift. */
    private static final long KEY_LIFE_MARGIN_NANOS = Duration.ofMinutes(1).toNanos();

    private final UsageTracker tracker;
    private final UsageTracker.Config config;
    private final UsageTracker.Listener listener;
    private final Deque<Batch> batches = new ArrayDeque<>();
    private final ConcurrentLinkedQueue<CompletableFuture<Void>> flushRequests = new ConcurrentLinkedQueue<>();
    private final List<Flush> flushes = new ArrayList<>();
    volatile boolean closing;
    volatile boolean abandon;

    private long batchSeq;
    private long lastFormedAt;
    /** Not before this may the next request go out (Retry-After, backoff, auth stop, an exhausted RateLimit). */
    private long sendNotBefore;
    /** Not before this is a partly filled batch formed (RateLimit pacing). */
    private long paceUntil;
    private int attempt;
    private boolean stopped;
    private long droppedReported;
    private long failuresReported;
    private final long[] fieldsReported = new long[3];
    /** The service refused method/status/duration_ms as unknown (a version before contract v1.2): left out from then on. */
    private boolean plainHits;
    /** Hits per batch now: the smallest of maxBatchSize and the {@code ingest_hits} policies last named. */
    private int batchLimit;

    Sender(UsageTracker tracker, UsageTracker.Config config) {
        this.tracker = tracker;
        this.config = config;
        this.listener = config.listener();
        this.batchLimit = config.maxBatchSize();
    }

    /** A batch: its hits, its body (written once, the same bytes on every retry) and its key. */
    static final class Batch {
        final long seq;
        final List<UsageTracker.Hit> hits;
        final byte[] body;
        final String idempotencyKey;
        /** When an attempt first reached the point where the server may have claimed the key (0: never). */
        long keyedAt;
        /** An attempt ended without an answer that says what happened (network error, timeout, 5xx): it may have landed. */
        boolean mayHaveLanded;
        boolean attempted;

        Batch(long seq, List<UsageTracker.Hit> hits, byte[] body, String idempotencyKey) {
            this.seq = seq;
            this.hits = hits;
            this.body = body;
            this.idempotencyKey = idempotencyKey;
        }

        long seq() {
            return seq;
        }

        List<UsageTracker.Hit> hits() {
            return hits;
        }

        byte[] body() {
            return body;
        }

        String idempotencyKey() {
            return idempotencyKey;
        }
    }

    private record Flush(CompletableFuture<Void> future, long upToSeq) {}

    void requestFlush(CompletableFuture<Void> f) {
        flushRequests.add(f);
    }

    void run() {
        lastFormedAt = config.ticker().nanoTime();
        try {
            while (!abandon) {
                long now = config.ticker().nanoTime();
                boolean flushNow = acceptFlushRequests();
                reportDrops();
                boolean timeDue = now - lastFormedAt >= config.flushInterval().toNanos();
                if (closing || flushNow || timeDue && now >= paceUntil) {
                    if (available() > 0) formBatches(false);
                    lastFormedAt = now;
                    if (flushNow) registerFlushes();
                } else if (available() >= batchLimit) {
                    formBatches(true);
                    // the flush interval counts from the last batch sent: under steady load every batch is full
                    lastFormedAt = now;
                }
                if (!batches.isEmpty() && now >= sendNotBefore) {
                    Batch next = batches.peekFirst();
                    if (next.keyedAt != 0 && now - next.keyedAt >= keyLifeNanos()) {
                        giveUpExpired(next);
                    } else if (!next.attempted && next.hits().size() > batchLimit) {
                        // formed before the server named a smaller ingest_hits policy: never sent, so cut it
                        batches.removeFirst();
                        splitFirst(next);
                    } else {
                        send(next);
                    }
                    settleFlushes();
                    continue;
                }
                if (closing && batches.isEmpty() && available() == 0) break;
                long wake = lastFormedAt + config.flushInterval().toNanos();
                if (paceUntil > wake) wake = paceUntil;
                if (!batches.isEmpty()) wake = Math.min(wake, Math.max(now, sendNotBefore));
                if (wake > now) config.ticker().parkUntil(wake);
            }
        } catch (InterruptedException e) {
            // close() gave up waiting
        } catch (RuntimeException | Error e) {
            safely(() -> listener.onDropped(tracker.held.get(), "sender failed: " + e.getClass().getSimpleName()));
        } finally {
            terminate();
        }
    }

    /** A hit taken from the buffer that did not fit into the last batch (256 KiB): it starts the next one. */
    private UsageTracker.Hit carry;

    private int available() {
        return tracker.queued.get() + (carry != null ? 1 : 0);
    }

    private UsageTracker.Hit nextHit() {
        if (carry != null) {
            UsageTracker.Hit h = carry;
            carry = null;
            return h;
        }
        return tracker.poll();
    }

    /** Cuts what is queued into batches: only full ones, or all of it. */
    private void formBatches(boolean fullOnly) {
        while (true) {
            if (fullOnly && available() < batchLimit) return;
            List<UsageTracker.Hit> hits = new ArrayList<>(Math.min(batchLimit, Math.max(1, available())));
            StringBuilder body = new StringBuilder(256);
            body.append("{\"hits\":[");
            int bytes = body.length() + 2;
            boolean cut = false;
            while (hits.size() < batchLimit) {
                UsageTracker.Hit h = nextHit();
                if (h == null) break;
                String json = hitJson(h, plainHits);
                int size = utf8Length(json) + (hits.isEmpty() ? 0 : 1);
                if (bytes + size > UsageTracker.MAX_BATCH_BYTES) {
                    carry = h;
                    cut = true;
                    break;
                }
                if (!hits.isEmpty()) body.append(',');
                body.append(json);
                bytes += size;
                hits.add(h);
            }
            if (hits.isEmpty()) return;
            body.append("]}");
            batches.addLast(new Batch(++batchSeq, hits, body.toString().getBytes(StandardCharsets.UTF_8),
                    UUID.randomUUID().toString()));
            if (cut && fullOnly) continue;
        }
    }

    Batch batchOf(long seq, List<UsageTracker.Hit> hits) {
        StringBuilder body = new StringBuilder(64 + hits.size() * 96).append("{\"hits\":[");
        for (int i = 0; i < hits.size(); i++) {
            if (i > 0) body.append(',');
            body.append(hitJson(hits.get(i), plainHits));
        }
        body.append("]}");
        return new Batch(seq, hits, body.toString().getBytes(StandardCharsets.UTF_8), UUID.randomUUID().toString());
    }

    static String hitJson(UsageTracker.Hit h) {
        return hitJson(h, false);
    }

    static String hitJson(UsageTracker.Hit h, boolean plain) {
        StringBuilder b = new StringBuilder(96);
        b.append("{\"ip\":");
        Json.writeString(b, h.ip());
        b.append(",\"endpoint\":");
        Json.writeString(b, h.endpoint());
        b.append(",\"timestamp\":\"").append(h.timestamp().truncatedTo(ChronoUnit.MILLIS)).append('"');
        if (plain) return b.append('}').toString();
        // validated at record: a method token needs no escaping
        if (h.method() != null) b.append(",\"method\":\"").append(h.method()).append('"');
        if (h.status() != null) b.append(",\"status\":").append(h.status().intValue());
        if (h.durationMillis() != null) appendMillis(b, h.durationMillis());
        return b.append('}').toString();
    }

    /** Microsecond precision is plenty and keeps the body short (no 1.0E-4 or 17 digits). */
    private static void appendMillis(StringBuilder b, double ms) {
        long micros = Math.round(ms * 1000);
        b.append(",\"duration_ms\":").append(micros / 1000);
        long frac = micros % 1000;
        if (frac != 0) {
            b.append('.');
            if (frac < 100) b.append('0');
            if (frac < 10) b.append('0');
            while (frac % 10 == 0) frac /= 10;
            b.append(frac);
        }
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }

    private void send(Batch batch) throws InterruptedException {
        long now;
        long sentAt = 0;
        int status;
        String body;
        HttpResponse<String> response;
        try {
            HttpRequest request = HttpRequest.newBuilder(config.endpoint())
                    .timeout(config.requestTimeout())
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json, application/problem+json")
                    .header("X-API-Key", config.apiKey())
                    .header("Idempotency-Key", batch.idempotencyKey())
                    .header("User-Agent", "usage-tracker-client-java")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(batch.body()))
                    .build();
            sentAt = config.ticker().nanoTime();
            batch.attempted = true;
            response = config.http().send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            status = response.statusCode();
            body = response.body();
        } catch (IOException | RuntimeException e) {
            if (Thread.currentThread().isInterrupted() || abandon) throw new InterruptedException();
            batch.mayHaveLanded = true;
            if (batch.keyedAt == 0) batch.keyedAt = sentAt;
            retryLater(0, e.getClass().getSimpleName());
            return;
        }
        now = config.ticker().nanoTime();
        // the key's life on the server starts at the first attempt that got past authentication (401/403/404/405
        // come before it); counting from our send, before the server's claim, errs on the safe side
        if (batch.keyedAt == 0 && status != 401 && status != 403 && status != 404 && status != 405) batch.keyedAt = sentAt;
        pace(response, now);
        sizeToPolicies(response);
        if (status >= 200 && status < 300) {
            batches.removeFirst();
            settle(batch.hits().size());
            tracker.acknowledged.add(batch.hits().size());
            attempt = 0;
            if (stopped) {
                stopped = false;
                safely(listener::onSendingResumed);
            }
            return;
        }
        Problem problem = Problem.parse(body);
        switch (status) {
            case 429 -> {
                Duration wait = retryAfter(response).orElse(Duration.ofSeconds(1));
                sendNotBefore = Math.max(sendNotBefore, now + wait.toNanos());
                tracker.retried.increment();
                int a = ++attempt;
                safely(() -> listener.onRetry(429, wait, a, problem.detail()));
            }
            case 401, 403, 404, 405 -> {
                sendNotBefore = now + config.authRetryInterval().toNanos();
                tracker.retried.increment();
                if (!stopped) {
                    stopped = true;
                    safely(() -> listener.onSendingStopped(status, problem.type(), problem.detail()));
                }
                failFlushes("sending stopped: the server answered " + status + (problem.title().isEmpty() ? "" : " " + problem.title()));
            }
            case 408, 425 -> {
                batch.mayHaveLanded = true;
                retryLater(status, problem.detail());
            }
            default -> {
                if (status >= 500) {
                    batch.mayHaveLanded = true;
                    retryLater(status, problem.detail());
                } else if (status == 400 && batch.mayHaveLanded) {
                    // an earlier attempt may have been counted: re-sending any of it under a new key could count
                    // it twice (issue 29, finding 3), so the batch is given up as it is
                    batches.removeFirst();
                    reject(batch.hits().size(), status, "an earlier attempt of this batch may have been counted, so it is"
                            + " not sent again under a new key: " + problem.detail());
                } else if (status == 400 && !plainHits && problem.onlyNewFields()) {
                    // a service before contract v1.2 does not know the fields (and would name one hit at a time):
                    // nothing landed, so the same hits go again without them, under a new key
                    plainHits = true;
                    batches.removeFirst();
                    batches.addFirst(batchOf(batch.seq(), batch.hits()));
                    int n = batch.hits().size();
                    safely(() -> listener.onFieldDropped("method, status, duration_ms", n,
                            "the service does not take them (a version before contract v1.2): hits are sent without them"));
                } else if (status == 400 && !problem.hitIndexes().isEmpty()) {
                    rejectSome(batch, problem.hitIndexes(), problem.detail());
                } else if (status == 400 && batch.hits().size() > batchLimit) {
                    // larger than the ingest_hits policy the answer names: the service refused it before any work
                    batches.removeFirst();
                    splitFirst(batch);
                } else {
                    batches.removeFirst();
                    reject(batch.hits().size(), status, problem.detail());
                }
            }
        }
    }

    /** {@code 400} naming hits: those are rejected, the others go out at once as a new batch with a new key. */
    private void rejectSome(Batch batch, BitSet bad, String detail) {
        batches.removeFirst();
        List<UsageTracker.Hit> keep = new ArrayList<>(batch.hits().size());
        int n = 0;
        for (int i = 0; i < batch.hits().size(); i++) {
            if (bad.get(i)) n++;
            else keep.add(batch.hits().get(i));
        }
        if (n == 0) {
            // the errors named no hit of this batch: nothing can be resent with any hope
            reject(batch.hits().size(), 400, detail);
            return;
        }
        reject(n, 400, detail);
        // the same seq: a flush waiting for the original waits for its remainder
        if (!keep.isEmpty()) batches.addFirst(batchOf(batch.seq(), keep));
    }

    /** The batch cut into batches of at most {@link #batchLimit}, each with a new key, in front of the others. */
    private void splitFirst(Batch batch) {
        List<UsageTracker.Hit> hits = batch.hits();
        for (int end = hits.size(); end > 0; ) {
            int start = Math.max(0, end - batchLimit);
            // the same seq: a flush waiting for the original waits for every part
            batches.addFirst(batchOf(batch.seq(), new ArrayList<>(hits.subList(start, end))));
            end = start;
        }
    }

    /**
     * The server forgets a key {@link UsageTracker#IDEMPOTENCY_KEY_LIFE} after it first saw it; sent after that
     * the batch would be counted again. Less the request timeout (the request's time on the way) and a margin.
     */
    private long keyLifeNanos() {
        return UsageTracker.IDEMPOTENCY_KEY_LIFE.toNanos() - config.requestTimeout().toNanos() - KEY_LIFE_MARGIN_NANOS;
    }

    /** A batch held longer than its key lives on the server is given up: counted as dropped and reported. */
    private void giveUpExpired(Batch batch) {
        batches.removeFirst();
        int n = batch.hits().size();
        settle(n);
        tracker.dropped.add(n);
        droppedReported += n;
        attempt = 0;
        safely(() -> listener.onDropped(n, "held longer than the server keeps its Idempotency-Key ("
                + UsageTracker.IDEMPOTENCY_KEY_LIFE.toHours() + " h): sent again it could be counted twice"));
    }

    /**
     * {@code RateLimit-Policy} ({@code "ingest-1m";q=500;w=60,"ingest_hits-1m";q=300;w=60}): batches are cut
     * to the smallest {@code ingest_hits} quota it names, else to maxBatchSize; a batch above it is refused
     * with a 400 whatever the timing.
     */
    private void sizeToPolicies(HttpResponse<?> response) {
        String field = response.headers().firstValue("RateLimit-Policy").orElse(null);
        if (field == null) return;
        batchLimit = (int) Math.min(config.maxBatchSize(), smallestHitsQuota(field));
        tracker.batchLimit = batchLimit;
    }

    /** The smallest {@code q} of the {@code ingest_hits-*} policies in a RateLimit-Policy field; MAX_VALUE when none. */
    static long smallestHitsQuota(String field) {
        long smallest = Long.MAX_VALUE;
        Matcher item = NAMED_ITEM.matcher(field);
        while (item.find()) {
            if (!item.group(1).startsWith(HITS_POLICY)) continue;
            Matcher p = PARAM.matcher(item.group(2));
            while (p.find()) {
                if (p.group(1).equals("q")) {
                    long q = Long.parseLong(p.group(2));
                    if (q >= 1) smallest = Math.min(smallest, q);
                }
            }
        }
        return smallest;
    }

    private void reject(int hits, int status, String detail) {
        settle(hits);
        tracker.rejected.add(hits);
        attempt = 0;
        safely(() -> listener.onRejected(hits, status, detail));
    }

    private void settle(int hits) {
        tracker.held.addAndGet(-hits);
    }

    /** Full jitter: uniform in [0, min(cap, base·2^(attempt-1))]. */
    private void retryLater(int status, String detail) {
        int a = ++attempt;
        Duration delay = backoff(a, config.backoffBase(), config.backoffCap(), config.random().getAsDouble());
        sendNotBefore = config.ticker().nanoTime() + delay.toNanos();
        tracker.retried.increment();
        safely(() -> listener.onRetry(status, delay, a, detail));
    }

    static Duration backoff(int attempt, Duration base, Duration cap, double random) {
        long ceiling = cap.toNanos();
        long b = base.toNanos();
        int shift = Math.min(Math.max(attempt - 1, 0), 40);
        long exp = b > (ceiling >> Math.min(shift, 62)) ? ceiling : Math.min(ceiling, b << shift);
        return Duration.ofNanos((long) (Math.min(Math.max(random, 0), 1) * exp));
    }

    /**
     * The {@code RateLimit} field ({@code "ingest-1m";r=499;t=60,...}): a policy with nothing left stops
     * sending for its {@code t}; otherwise partly filled batches wait {@code t/r} (the remaining quota spread
     * over its window), so batches grow as the quota shrinks. Full batches are not held back.
     */
    private void pace(HttpResponse<?> response, long now) {
        String field = response.headers().firstValue("RateLimit").orElse(null);
        if (field == null) return;
        long spacing = 0;
        long block = 0;
        Matcher item = RATE_LIMIT_ITEM.matcher(field);
        while (item.find()) {
            long r = -1;
            long t = -1;
            Matcher p = PARAM.matcher(item.group(1));
            while (p.find()) {
                if (p.group(1).equals("r")) r = Long.parseLong(p.group(2));
                else if (p.group(1).equals("t")) t = Long.parseLong(p.group(2));
            }
            if (r < 0 || t < 0) continue;
            long window = Duration.ofSeconds(Math.min(t, 86_400)).toNanos();
            if (r == 0) block = Math.max(block, window);
            else spacing = Math.max(spacing, window / r);
        }
        if (block > 0) sendNotBefore = Math.max(sendNotBefore, now + block);
        paceUntil = now + spacing;
    }

    static java.util.Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").flatMap(Sender::parseRetryAfter);
    }

    static java.util.Optional<Duration> parseRetryAfter(String v) {
        String s = v.trim();
        try {
            long seconds = Long.parseLong(s);
            return java.util.Optional.of(Duration.ofSeconds(Math.max(0, Math.min(seconds, 3_600))));
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(java.time.Instant.now(),
                        ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return java.util.Optional.of(d.isNegative() ? Duration.ZERO : d.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1) : d);
            } catch (RuntimeException ignored) {
                return java.util.Optional.empty();
            }
        }
    }

    // --- flush() -------------------------------------------------------------------------------

    private final List<CompletableFuture<Void>> accepted = new ArrayList<>();

    private boolean acceptFlushRequests() {
        CompletableFuture<Void> f;
        while ((f = flushRequests.poll()) != null) accepted.add(f);
        return !accepted.isEmpty();
    }

    private void registerFlushes() {
        for (CompletableFuture<Void> f : accepted) {
            if (stopped && !batches.isEmpty()) {
                f.completeExceptionally(new UsageTrackerException("sending is stopped (401/403/404): see the listener"));
            } else {
                flushes.add(new Flush(f, batchSeq));
                // a flush also pushes through what is waiting for a pacing delay, not for a retry delay
            }
        }
        accepted.clear();
        settleFlushes();
    }

    private void settleFlushes() {
        if (flushes.isEmpty()) return;
        long oldest = batches.stream().mapToLong(Batch::seq).min().orElse(Long.MAX_VALUE);
        for (Iterator<Flush> it = flushes.iterator(); it.hasNext(); ) {
            Flush f = it.next();
            if (f.upToSeq() < oldest) {
                f.future().complete(null);
                it.remove();
            }
        }
    }

    private void failFlushes(String why) {
        for (Flush f : flushes) f.future().completeExceptionally(new UsageTrackerException(why));
        flushes.clear();
    }

    // --- the end ---------------------------------------------------------------------------------

    private void terminate() {
        tracker.terminated = true;
        settleFlushes();
        failFlushes("the tracker closed before these hits were acknowledged");
        acceptFlushRequests();
        boolean nothingLeft = batches.isEmpty() && available() == 0;
        for (CompletableFuture<Void> f : accepted) {
            if (nothingLeft) f.complete(null);
            else f.completeExceptionally(new UsageTrackerException("the tracker closed before these hits were acknowledged"));
        }
        accepted.clear();
        long left = carry != null ? 1 : 0;
        carry = null;
        for (Batch b : batches) left += b.hits().size();
        batches.clear();
        if (left > 0) {
            tracker.held.addAndGet((int) -left);
            tracker.dropped.add(left);
        }
        tracker.dropQueued();
        reportDrops();
    }

    private void reportDrops() {
        reportFieldDrops(0, "method", tracker.invalidMethods, "not an HTTP method token of 1 to " + UsageTracker.MAX_METHOD_LENGTH + " characters");
        reportFieldDrops(1, "status", tracker.invalidStatuses, "not an HTTP status from 100 to 599");
        reportFieldDrops(2, "duration_ms", tracker.invalidDurations, "not a number of milliseconds from 0 to 3,600,000");
        long d = tracker.dropped.sum();
        if (d > droppedReported) {
            long n = d - droppedReported;
            droppedReported = d;
            long f = tracker.recordFailures.sum();
            long failed = Math.min(n, f - failuresReported);
            failuresReported = f;
            if (failed > 0) safely(() -> listener.onDropped(failed, "record failed: " + tracker.lastRecordFailure));
            if (n > failed) {
                safely(() -> listener.onDropped(n - failed, tracker.terminated ? "closed before they could be sent" : "buffer full"));
            }
        }
    }

    private void reportFieldDrops(int i, String field, java.util.concurrent.atomic.LongAdder counter, String reason) {
        long c = counter.sum();
        if (c > fieldsReported[i]) {
            long n = c - fieldsReported[i];
            fieldsReported[i] = c;
            safely(() -> listener.onFieldDropped(field, n, reason));
        }
    }

    private static void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException ignored) {
            // a listener's failure is its own
        }
    }

    /** What we read from a problem+json answer. */
    record Problem(String type, String title, String detail, BitSet hitIndexes, boolean onlyNewFields) {
        static Problem parse(String body) {
            BitSet indexes = new BitSet();
            if (body == null || body.isBlank()) return new Problem("", "", "", indexes, false);
            try {
                Object parsed = Json.parse(body);
                if (!(parsed instanceof Map<?, ?> m)) return new Problem("", "", "", indexes, false);
                boolean onlyNew = false;
                if (m.get("errors") instanceof List<?> errors) {
                    onlyNew = !errors.isEmpty();
                    for (Object e : errors) {
                        String field = e instanceof Map<?, ?> err && err.get("field") instanceof String f ? f : "";
                        Matcher x = HIT_FIELD.matcher(field);
                        if (x.find() && x.group(1).length() < 6) indexes.set(Integer.parseInt(x.group(1)));
                        if (!NEW_FIELD.matcher(field).matches()) onlyNew = false;
                    }
                }
                return new Problem(str(m.get("type")), str(m.get("title")), str(m.get("detail")), indexes, onlyNew);
            } catch (IllegalArgumentException e) {
                return new Problem("", "", "", indexes, false);
            }
        }

        private static String str(Object o) {
            return o instanceof String s ? s : "";
        }
    }
}
