package dev.usagetracker.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.client.FakeIngest.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sender's semantics (DESIGN.md §8) on a controllable clock against an in-process HTTP server. */
class UsageTrackerTest {
    static final String KEY = "ut_live_secret-key-0123456789";
    FakeIngest ingest;
    FakeTicker ticker;
    UsageTracker tracker;
    final List<String> events = Collections.synchronizedList(new ArrayList<>());
    final UsageTracker.Listener listener = new UsageTracker.Listener() {
        @Override
        public void onSendingStopped(int status, String problemType, String detail) {
            events.add("stopped " + status + " " + problemType);
        }

        @Override
        public void onSendingResumed() {
            events.add("resumed");
        }

        @Override
        public void onRejected(int hits, int status, String detail) {
            events.add("rejected " + hits + " " + status);
        }

        @Override
        public void onDropped(long hits, String reason) {
            events.add("dropped " + hits + " " + reason);
        }

        @Override
        public void onRetry(int status, Duration delay, int attempt, String detail) {
            events.add("retry " + status + " " + delay.toMillis() + "ms #" + attempt);
        }

        @Override
        public void onFieldDropped(String field, long hits, String reason) {
            events.add("field " + field + " " + hits);
        }
    };

    @BeforeEach
    void start() throws Exception {
        ingest = new FakeIngest();
        ticker = new FakeTicker();
    }

    @AfterEach
    void stop() {
        if (tracker != null) tracker.close();
        ingest.close();
    }

    UsageTracker.Builder builder() {
        return UsageTracker.builder(ingest.baseUrl(), KEY).ticker(ticker).listener(listener).random(() -> 1.0)
                .closeTimeout(Duration.ofSeconds(2));
    }

    void assertBooks(UsageTracker t) {
        UsageTracker.Stats s = t.stats();
        assertThat(s.recorded()).as(s.toString()).isEqualTo(s.acknowledged() + s.pending() + s.dropped() + s.rejected());
        assertThat(s.pending()).as(s.toString()).isEqualTo(t.held.get());
    }

    @Test
    void fullBatchesGoAtOnceAndTheRestWhenTheFlushIntervalPasses() throws Exception {
        tracker = builder().maxBatchSize(10).flushInterval(Duration.ofSeconds(5)).build();
        ticker.awaitIdle();
        for (int i = 0; i < 25; i++) assertThat(tracker.record("192.0.2.1", "/a/" + i)).isTrue();
        FakeIngest.Request first = ingest.next();
        FakeIngest.Request second = ingest.next();
        assertThat(first.endpoints()).containsExactly("/a/0", "/a/1", "/a/2", "/a/3", "/a/4", "/a/5", "/a/6", "/a/7", "/a/8", "/a/9");
        assertThat(second.hits()).isEqualTo(10);
        assertThat(first.path()).isEqualTo("/api/logs");
        assertThat(first.apiKey()).isEqualTo(KEY);
        assertThat(first.contentType()).isEqualTo("application/json");
        assertThat(first.idempotencyKey()).isNotBlank().isNotEqualTo(second.idempotencyKey());
        ticker.awaitIdle();
        assertThat(ingest.requests).as("5 hits wait for the flush interval").isEmpty();
        assertThat(tracker.stats().pending()).isEqualTo(5);
        ticker.advance(Duration.ofSeconds(5));
        assertThat(ingest.next().endpoints()).containsExactly("/a/20", "/a/21", "/a/22", "/a/23", "/a/24");
        ticker.awaitIdle();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(25, 25, 0, 0, 0, 0));
    }

    @Test
    void anIpv6ZoneIsLeftOutAndAFlushAfterCloseNeverHangs() throws Exception {
        tracker = builder().build();
        ticker.awaitIdle();
        // a link-local peer as a servlet container gives it: the zone names an interface of this host
        assertThat(tracker.record("fe80::1%eth0", "/z")).isTrue();
        assertThat(tracker.record("%eth0", "/z")).as("a zone alone is no address").isFalse();
        CompletableFuture<Void> flushed = tracker.flush();
        assertThat(ingest.next().body()).contains("\"ip\":\"fe80::1\"");
        flushed.get(5, TimeUnit.SECONDS);
        tracker.close();
        // after close, every flush completes at once: nothing is left, so successfully
        for (int i = 0; i < 100; i++) tracker.flush().get(1, TimeUnit.SECONDS);
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(2, 1, 0, 1, 0, 0));
    }

    @Test
    void aPartialBatchWaitsForTheFlushIntervalThenGoesAsOneRequest() throws Exception {
        Instant at = Instant.parse("2026-11-26T07:00:00.123456Z");
        tracker = builder().flushInterval(Duration.ofMillis(1_500)).build();
        ticker.awaitIdle();
        tracker.record("192.0.2.1", "/x", at);
        tracker.record("2001:db8::1", "/y \"q\"".replace(" ", "_"));
        ticker.awaitIdle();
        ticker.advance(Duration.ofMillis(1_499));
        ticker.awaitIdle();
        assertThat(ingest.requests).isEmpty();
        ticker.advance(Duration.ofMillis(1));
        FakeIngest.Request r = ingest.next();
        assertThat(r.body()).startsWith("{\"hits\":[{\"ip\":\"192.0.2.1\",\"endpoint\":\"/x\",\"timestamp\":\"2026-11-26T07:00:00.123Z\"},")
                .contains("\"endpoint\":\"/y_\\\"q\\\"\"");
        assertThat(Json.parse(r.body())).isInstanceOf(Map.class);
    }

    @Test
    void aFullBufferDropsAndCountsWhileNothingCanBeSent() throws Exception {
        ingest.fallback = r -> Reply.of(503);
        tracker = builder().maxBufferedHits(5).maxBatchSize(2).build();
        int accepted = 0;
        for (int i = 0; i < 8; i++) if (tracker.record("192.0.2.1", "/a")) accepted++;
        assertThat(accepted).isEqualTo(5);
        UsageTracker.Stats s = tracker.stats();
        assertThat(s.dropped()).isEqualTo(3);
        assertThat(s.recorded()).isEqualTo(8);
        assertBooks(tracker);
        // A drop does not wake the sender (under overload that would cost a wake-up per hit); it reports drops on
        // its next pass — as one event of 3, or 2 then 1 if it ran between the records. A flush is such a pass.
        tracker.flush();
        ticker.awaitIdle();
        assertThat(events.stream().filter(e -> e.startsWith("dropped ") && e.endsWith(" buffer full"))
                .mapToLong(e -> Long.parseLong(e.split(" ")[1])).sum()).as("%s", events).isEqualTo(3);
    }

    @Test
    void hitsNamedByA400AreRejectedAndTheRestResentUnderANewKey() throws Exception {
        ingest.script.add(new Reply(400, Map.of(), """
                {"type":"https://usage-tracker.dev/problems/validation","title":"Invalid request","status":400,
                 "detail":"2 fields are invalid","errors":[{"field":"hits[1].ip","message":"must be an IPv4 or IPv6 address"},
                 {"field":"hits[3].timestamp","message":"must not be older than the retention window of 30 days"}]}"""));
        tracker = builder().maxBatchSize(5).build();
        for (int i = 0; i < 5; i++) tracker.record("192.0.2." + i, "/h/" + i);
        FakeIngest.Request first = ingest.next();
        FakeIngest.Request second = ingest.next();
        assertThat(first.hits()).isEqualTo(5);
        assertThat(second.endpoints()).containsExactly("/h/0", "/h/2", "/h/4");
        assertThat(second.idempotencyKey()).isNotEqualTo(first.idempotencyKey());
        ticker.awaitIdle();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(5, 3, 0, 2, 0, 0));
        assertThat(events).containsExactly("rejected 2 400");
    }

    @Test
    void a400WithoutHitErrorsOrA413RejectsTheWholeBatch() throws Exception {
        ingest.script.add(new Reply(413, Map.of(), "{\"title\":\"Payload too large\",\"status\":413}"));
        tracker = builder().maxBatchSize(3).build();
        for (int i = 0; i < 3; i++) tracker.record("192.0.2.1", "/a");
        ingest.next();
        ticker.awaitIdle();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(3, 0, 0, 3, 0, 0));
    }

    @Test
    void a401StopsSendingReportsOnceKeepsBufferingAndResumesAfterTheRetryInterval() throws Exception {
        ingest.fallback = r -> new Reply(401, Map.of("WWW-Authenticate", "Bearer"),
                "{\"type\":\"https://usage-tracker.dev/problems/unauthorized\",\"title\":\"Unauthorized\",\"status\":401}");
        tracker = builder().maxBatchSize(2).maxBufferedHits(6).authRetryInterval(Duration.ofMinutes(2)).build();
        tracker.record("192.0.2.1", "/a");
        tracker.record("192.0.2.1", "/b");
        ingest.next();
        ticker.awaitIdle();
        assertThat(events).containsExactly("stopped 401 https://usage-tracker.dev/problems/unauthorized");
        CompletableFuture<Void> flush = tracker.flush();
        assertThatThrownBy(() -> flush.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(UsageTrackerException.class);
        for (int i = 0; i < 6; i++) tracker.record("192.0.2.1", "/c");
        ticker.awaitIdle();
        ticker.advance(Duration.ofSeconds(30));
        ticker.awaitIdle();
        assertThat(ingest.requests).as("nothing is sent while stopped").isEmpty();
        assertThat(tracker.stats().pending()).isEqualTo(6);
        assertThat(tracker.stats().dropped()).isEqualTo(2);
        assertBooks(tracker);

        ingest.fallback = r -> FakeIngest.accepted(r.hits());
        ticker.advance(Duration.ofSeconds(90));
        FakeIngest.Request probe = ingest.next();
        assertThat(probe.endpoints()).containsExactly("/a", "/b");
        tracker.flush().get(5, TimeUnit.SECONDS);
        assertThat(events).contains("resumed");
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(8, 6, 2, 0, 1, 0));
    }

    @Test
    void a429WaitsRetryAfterAndResendsTheSameBatchUnderTheSameKey() throws Exception {
        ingest.script.add(new Reply(429, Map.of("Retry-After", "7", "RateLimit", "\"ingest-1m\";r=0;t=7"),
                "{\"title\":\"Too many requests\",\"status\":429}"));
        tracker = builder().maxBatchSize(2).flushInterval(Duration.ofHours(1)).build();
        tracker.record("192.0.2.1", "/a");
        tracker.record("192.0.2.1", "/b");
        FakeIngest.Request first = ingest.next();
        ticker.awaitIdle();
        assertThat(ticker.lastWait()).isEqualTo(Duration.ofSeconds(7));
        ticker.advance(Duration.ofMillis(6_999));
        ticker.awaitIdle();
        assertThat(ingest.requests).isEmpty();
        ticker.advance(Duration.ofMillis(1));
        FakeIngest.Request retry = ingest.next();
        assertThat(retry.idempotencyKey()).isEqualTo(first.idempotencyKey());
        assertThat(retry.body()).isEqualTo(first.body());
        ticker.awaitIdle();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(2, 2, 0, 0, 1, 0));
    }

    @Test
    void fiveHundredsAndNetworkErrorsBackOffWithFullJitterKeepingTheKey() throws Exception {
        ingest.fallback = r -> new Reply(503, Map.of("Retry-After", "5"), "{\"status\":503}");
        tracker = builder().maxBatchSize(1).flushInterval(Duration.ofHours(1)).build();
        tracker.record("192.0.2.1", "/a");
        String key = ingest.next().idempotencyKey();
        long[] expectedMillis = {500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000};
        for (long ms : expectedMillis) {
            ticker.awaitIdle();
            assertThat(ticker.lastWait()).isEqualTo(Duration.ofMillis(ms));
            ticker.advance(Duration.ofMillis(ms));
            assertThat(ingest.next().idempotencyKey()).isEqualTo(key);
        }
        ingest.fallback = r -> FakeIngest.accepted(r.hits());
        ticker.awaitIdle();
        ticker.advance(Duration.ofSeconds(30));
        assertThat(ingest.next().idempotencyKey()).isEqualTo(key);
        ticker.awaitIdle();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(1, 1, 0, 0, 9, 0));
    }

    @Test
    void backoffIsUniformBetweenZeroAndTheCappedExponential() {
        Duration base = Duration.ofMillis(500);
        Duration cap = Duration.ofSeconds(30);
        assertThat(Sender.backoff(1, base, cap, 0.0)).isZero();
        assertThat(Sender.backoff(1, base, cap, 0.5)).isEqualTo(Duration.ofMillis(250));
        assertThat(Sender.backoff(3, base, cap, 1.0)).isEqualTo(Duration.ofSeconds(2));
        assertThat(Sender.backoff(100, base, cap, 1.0)).isEqualTo(cap);
        java.util.Random r = new java.util.Random(42);
        for (int attempt = 1; attempt < 70; attempt++) {
            Duration d = Sender.backoff(attempt, base, cap, r.nextDouble());
            assertThat(d).isBetween(Duration.ZERO, Duration.ofMillis(Math.min(30_000, 500L << Math.min(attempt - 1, 20))));
        }
    }

    @Test
    void aNetworkErrorIsRetriedWithTheSameKey() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ingest.fallback = r -> {
            if (calls.incrementAndGet() == 1) throw new RuntimeException("connection dropped"); // the server closes the exchange
            return FakeIngest.accepted(r.hits());
        };
        tracker = builder().maxBatchSize(1).requestTimeout(Duration.ofSeconds(2)).build();
        tracker.record("192.0.2.1", "/a");
        String key = ingest.next().idempotencyKey();
        ticker.awaitIdle();
        assertThat(events).anyMatch(e -> e.startsWith("retry 0 500ms #1"));
        ticker.advance(Duration.ofMillis(500));
        assertThat(ingest.next().idempotencyKey()).isEqualTo(key);
        ticker.awaitIdle();
        assertThat(tracker.stats().acknowledged()).isEqualTo(1);
    }

    @Test
    void rateLimitPacingHoldsPartialBatchesButNotFullOnes() throws Exception {
        ingest.fallback = r -> new Reply(202, Map.of("RateLimit", "\"ingest-1m\";r=2;t=60,\"ingest-1h\";r=900;t=3600"),
                "{\"accepted\":" + r.hits() + "}");
        tracker = builder().maxBatchSize(3).flushInterval(Duration.ofSeconds(1)).build();
        tracker.record("192.0.2.1", "/a");
        ticker.awaitIdle();
        ticker.advance(Duration.ofSeconds(1));
        ingest.next();
        tracker.record("192.0.2.1", "/b");
        ticker.awaitIdle();
        ticker.advance(Duration.ofSeconds(1));
        ticker.awaitIdle();
        assertThat(ingest.requests).as("2 requests left in 60 s: a partial batch waits 30 s").isEmpty();
        tracker.record("192.0.2.1", "/c");
        tracker.record("192.0.2.1", "/d");
        assertThat(ingest.next().hits()).as("a full batch is not held back").isEqualTo(3);
        tracker.record("192.0.2.1", "/e");
        ticker.awaitIdle();
        ticker.advance(Duration.ofSeconds(29));
        ticker.awaitIdle();
        assertThat(ingest.requests).isEmpty();
        ticker.advance(Duration.ofSeconds(1));
        assertThat(ingest.next().endpoints()).containsExactly("/e");
    }

    @Test
    void batchesAreCutAt256KiB() throws Exception {
        tracker = builder().flushInterval(Duration.ofSeconds(1)).build();
        String longPath = "/" + "p".repeat(2_000);
        for (int i = 0; i < 300; i++) tracker.record("192.0.2.1", longPath);
        tracker.flush();
        int total = 0;
        List<Integer> sizes = new ArrayList<>();
        while (total < 300) {
            FakeIngest.Request r = ingest.next();
            assertThat(r.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(256 * 1024);
            sizes.add(r.hits());
            total += r.hits();
        }
        assertThat(total).isEqualTo(300);
        // 2,072 bytes a hit: 256 KiB hold 126
        assertThat(sizes).containsExactly(126, 126, 48);
    }

    @Test
    void flushCompletesWhenEverythingRecordedBeforeIsAcknowledged() throws Exception {
        tracker = builder().flushInterval(Duration.ofHours(1)).build();
        for (int i = 0; i < 7; i++) tracker.record("192.0.2.1", "/f");
        tracker.flush().get(5, TimeUnit.SECONDS);
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(7, 7, 0, 0, 0, 0));
        tracker.flush().get(5, TimeUnit.SECONDS);
    }

    @Test
    void invalidHitsAreRejectedOnTheCallersSideWithoutThrowing() {
        tracker = builder().build();
        assertThat(tracker.record(null, "/a")).isFalse();
        assertThat(tracker.record("not-an-ip", "/a")).isFalse();
        assertThat(tracker.record("192.0.2.1", "no-slash")).isFalse();
        assertThat(tracker.record("192.0.2.1", "/with space")).isFalse();
        assertThat(tracker.record("192.0.2.1", null)).isFalse();
        assertThat(tracker.record("192.0.2.1", "/" + "x".repeat(2048))).isFalse();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(6, 0, 0, 6, 0, 0));
    }

    @Test
    void closeSendsWhatIsLeftIsIdempotentAndLaterRecordsDrop() throws Exception {
        tracker = UsageTracker.builder(ingest.baseUrl(), KEY).flushInterval(Duration.ofHours(1)).build();
        for (int i = 0; i < 3; i++) tracker.record("192.0.2.1", "/c");
        tracker.close();
        assertThat(ingest.next().hits()).isEqualTo(3);
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(3, 3, 0, 0, 0, 0));
        tracker.close();
        assertThat(tracker.record("192.0.2.1", "/late")).isFalse();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(4, 3, 1, 0, 0, 0));
        assertThat(tracker.flush()).isDone();
    }

    @Test
    void closeGivesUpAfterItsTimeoutAndCountsTheRestDropped() throws Exception {
        ingest.fallback = r -> Reply.of(503);
        tracker = UsageTracker.builder(ingest.baseUrl(), KEY).closeTimeout(Duration.ofMillis(300)).listener(listener)
                .retryBackoff(Duration.ofSeconds(10), Duration.ofSeconds(30)).build();
        for (int i = 0; i < 4; i++) tracker.record("192.0.2.1", "/c");
        long t0 = System.nanoTime();
        tracker.close();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        UsageTracker.Stats s = tracker.stats();
        assertThat(s.pending()).isZero();
        assertThat(s.dropped()).isEqualTo(4);
        assertThat(events).anyMatch(e -> e.startsWith("dropped 4"));
    }

    @Test
    void toStringNeverShowsTheKey() {
        tracker = builder().build();
        assertThat(tracker.toString()).doesNotContain(KEY).contains("/api/logs");
        assertThat(tracker.config.toString()).doesNotContain(KEY);
    }

    @Test
    void theBooksBalanceAtEveryMomentUnderConcurrentRecordingAndFailures() throws Exception {
        AtomicInteger n = new AtomicInteger();
        ingest.fallback = r -> switch (n.incrementAndGet() % 5) {
            case 0 -> Reply.of(503);
            case 1 -> new Reply(400, Map.of(), "{\"status\":400,\"errors\":[{\"field\":\"hits[0].ip\",\"message\":\"x\"}]}");
            default -> FakeIngest.accepted(r.hits());
        };
        tracker = UsageTracker.builder(ingest.baseUrl(), KEY).maxBatchSize(50).maxBufferedHits(2_000)
                .flushInterval(Duration.ofMillis(20)).retryBackoff(Duration.ofMillis(1), Duration.ofMillis(5))
                .closeTimeout(Duration.ofSeconds(20)).build();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong violations = new AtomicLong();
        Thread auditor = new Thread(() -> {
            while (!stop.get()) {
                UsageTracker.Stats s = tracker.stats();
                if (s.recorded() != s.acknowledged() + s.pending() + s.dropped() + s.rejected() || s.pending() < 0) violations.incrementAndGet();
            }
        });
        auditor.start();
        CountDownLatch done = new CountDownLatch(8);
        for (int t = 0; t < 8; t++) {
            new Thread(() -> {
                for (int i = 0; i < 5_000; i++) tracker.record("192.0.2.1", "/load");
                done.countDown();
            }).start();
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        tracker.close();
        stop.set(true);
        auditor.join();
        UsageTracker.Stats s = tracker.stats();
        assertThat(violations.get()).isZero();
        assertThat(s.recorded()).isEqualTo(40_000);
        assertThat(s.pending()).isZero();
        assertThat(s.acknowledged() + s.dropped() + s.rejected()).isEqualTo(40_000);
        assertThat(s.acknowledged()).isPositive();
        assertThat(s.rejected()).isPositive();
        assertThat(s.retried()).isPositive();
    }

    @Test
    void theServersProblemAndRetryAfterFormsAreRead() {
        Sender.Problem p = Sender.Problem.parse("{\"errors\":[{\"field\":\"hits[12].endpoint\"},{\"field\":\"hits\"},{\"field\":\"x\"}],\"type\":\"t\"}");
        assertThat(p.hitIndexes().stream().boxed().toList()).containsExactly(12);
        assertThat(p.type()).isEqualTo("t");
        assertThat(Sender.Problem.parse("<html>").hitIndexes().isEmpty()).isTrue();
        assertThat(Sender.parseRetryAfter("7")).contains(Duration.ofSeconds(7));
        assertThat(Sender.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).contains(Duration.ZERO);
        assertThat(Sender.parseRetryAfter("soon")).isEmpty();
        assertThat(Json.parse("{\"a\":[1,2.5,\"\\u00e9\\n\",true,null]}").toString()).isEqualTo("{a=[1, 2.5, é\n, true, null]}");
    }

    // --- exactly once at the edges (DESIGN.md §8, issue 29 findings 2, 3, 4, 9) --------------------------

    static final String HITS_POLICY = "\"ingest-1m\";q=500;w=60,\"ingest_hits-1m\";q=300;w=60,\"ingest_hits-1h\";q=5000;w=3600";

    /** The service's answer to a batch above an ingest_hits policy (RateLimitGuard), else 202; both name the policies. */
    static Reply hitsPolicyAnswer(FakeIngest.Request r) {
        if (r.hits() > 300) {
            return new Reply(400, Map.of("RateLimit-Policy", HITS_POLICY), "{\"type\":\"https://usage-tracker.dev/problems/bad-request\","
                    + "\"title\":\"Bad request\",\"status\":400,\"detail\":\"This request needs " + r.hits()
                    + " units but the ingest_hits-1m policy allows 300 per 60 s; send smaller batches.\"}");
        }
        return new Reply(202, Map.of("RateLimit-Policy", HITS_POLICY), "{\"accepted\":" + r.hits() + "}");
    }

    @Test
    void batchesAreCutToTheSmallestIngestHitsPolicyAndA400ForSizeLosesNothing() throws Exception {
        ingest.fallback = UsageTrackerTest::hitsPolicyAnswer;
        tracker = builder().flushInterval(Duration.ofHours(1)).build();
        for (int i = 0; i < 1_000; i++) tracker.record("192.0.2.1", "/p/" + i);
        tracker.flush().get(10, TimeUnit.SECONDS);
        List<FakeIngest.Request> sent = new ArrayList<>(ingest.requests);
        assertThat(sent.getFirst().hits()).as("the first batch, before any policy was named").isEqualTo(500);
        List<FakeIngest.Request> accepted = sent.subList(1, sent.size());
        assertThat(accepted).allSatisfy(r -> assertThat(r.hits()).isLessThanOrEqualTo(300));
        assertThat(accepted.stream().flatMap(r -> r.endpoints().stream()).distinct().count()).isEqualTo(1_000);
        assertThat(accepted.stream().mapToInt(FakeIngest.Request::hits).sum()).isEqualTo(1_000);
        assertThat(accepted.stream().map(FakeIngest.Request::idempotencyKey).distinct().count()).isEqualTo(accepted.size());
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(1_000, 1_000, 0, 0, 0, 0));
        assertThat(events).isEmpty();

        // learnt from the answers: the next full batches are 300 from the start, and a record wakes the sender at 300
        ingest.requests.clear();
        for (int i = 0; i < 600; i++) tracker.record("192.0.2.1", "/q");
        assertThat(ingest.next().hits()).isEqualTo(300);
        assertThat(ingest.next().hits()).isEqualTo(300);
        assertThat(Sender.smallestHitsQuota("\"ingest-1m\";q=500;w=60")).isEqualTo(Long.MAX_VALUE);
        assertThat(Sender.smallestHitsQuota(HITS_POLICY)).isEqualTo(300);
    }

    @Test
    void aBatchHeldLongerThanTheServerKeepsItsKeyIsDroppedAndReportedNeverResent() throws Exception {
        // a monthly quota refuses until the 1st: Retry-After is waited an hour at a time, under the same key
        ingest.fallback = r -> new Reply(429, Map.of("Retry-After", "3600"),
                "{\"type\":\"https://usage-tracker.dev/problems/quota-exceeded\",\"status\":429}");
        tracker = builder().maxBatchSize(2).flushInterval(Duration.ofHours(1)).build();
        tracker.record("192.0.2.1", "/a");
        tracker.record("192.0.2.1", "/b");
        String key = ingest.next().idempotencyKey();
        for (int hour = 1; hour < 24; hour++) {
            ticker.awaitIdle();
            ticker.advance(Duration.ofHours(1));
            assertThat(ingest.next().idempotencyKey()).as("hour " + hour).isEqualTo(key);
        }
        ticker.awaitIdle();
        ticker.advance(Duration.ofHours(1));
        ticker.awaitIdle();
        ticker.advance(Duration.ofHours(1));
        ticker.awaitIdle();
        assertThat(ingest.requests).as("never sent again once 24 h old").isEmpty();
        // retried counts the answers that sent it back to wait: 24 refusals
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(2, 0, 2, 0, 24, 0));
        assertThat(events).contains("dropped 2 held longer than the server keeps its Idempotency-Key (24 h): sent again it could be counted twice");
        assertBooks(tracker);
    }

    @Test
    void aBatchOnlyEverRefusedByAuthenticationIsNotAgedOut() throws Exception {
        AtomicBoolean enabled = new AtomicBoolean();
        ingest.fallback = r -> enabled.get() ? FakeIngest.accepted(r.hits()) : Reply.of(403);
        tracker = builder().maxBatchSize(1).authRetryInterval(Duration.ofHours(1)).build();
        tracker.record("192.0.2.1", "/a");
        String key = ingest.next().idempotencyKey();
        for (int hour = 1; hour <= 30; hour++) {
            ticker.awaitIdle();
            if (hour == 30) enabled.set(true);
            ticker.advance(Duration.ofHours(1));
            assertThat(ingest.next().idempotencyKey()).isEqualTo(key);
        }
        ticker.awaitIdle();
        assertThat(tracker.stats().acknowledged()).as("the server never claimed its key: %s", events).isEqualTo(1);
    }

    @Test
    void a400OnARetryOfABatchThatMayHaveLandedIsNotSplitAndResentUnderANewKey() throws Exception {
        ingest.script.add(Reply.of(502));
        ingest.script.add(new Reply(400, Map.of(), "{\"status\":400,\"errors\":[{\"field\":\"hits[1].timestamp\",\"message\":\"too old\"}]}"));
        tracker = builder().maxBatchSize(3).build();
        for (int i = 0; i < 3; i++) tracker.record("192.0.2.1", "/m/" + i);
        String key = ingest.next().idempotencyKey();
        ticker.awaitIdle();
        ticker.advance(Duration.ofSeconds(1));
        assertThat(ingest.next().idempotencyKey()).isEqualTo(key);
        ticker.awaitIdle();
        ticker.advance(Duration.ofMinutes(1));
        ticker.awaitIdle();
        assertThat(ingest.requests).as("no part of it goes again under a new key").isEmpty();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(3, 0, 0, 3, 1, 0));
        assertThat(events).contains("rejected 3 400");
    }

    @Test
    void aClockThatThrowsInRecordGivesTheBufferPlaceBackAndTheHitIsCountedDropped() throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        java.time.Clock clock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                if (broken.get()) throw new IllegalStateException("clock broken");
                return Instant.now();
            }
        };
        tracker = builder().clock(clock).maxBufferedHits(3).maxBatchSize(3).flushInterval(Duration.ofHours(1)).build();
        for (int i = 0; i < 5; i++) assertThat(tracker.record("192.0.2.1", "/a")).isFalse();
        assertBooks(tracker);
        broken.set(false);
        for (int i = 0; i < 3; i++) assertThat(tracker.record("192.0.2.1", "/b")).as("the buffer still has room").isTrue();
        assertThat(ingest.next().hits()).isEqualTo(3);
        tracker.close();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(8, 3, 5, 0, 0, 0));
        // Drops are reported on the sender's next pass: one event of 5, or 1 then 4 if it ran between the records.
        assertThat(events.stream().filter(e -> e.startsWith("dropped ") && e.endsWith(" record failed: IllegalStateException"))
                .mapToLong(e -> Long.parseLong(e.split(" ")[1])).sum()).as("%s", events).isEqualTo(5);
    }

    // --- v1.2: method, status, duration (DESIGN.md §2b) ----------------------------------------------

    @Test
    void methodStatusAndDurationTravelWithTheHitAndInvalidOnesAreLeftOutNotTheHit() throws Exception {
        tracker = builder().maxBatchSize(11).build();
        Instant t = Instant.parse("2026-12-06T10:00:00.123Z");
        UsageTracker.Hit base = UsageTracker.Hit.of("192.0.2.1", "/f").withTimestamp(t);
        assertThat(tracker.record(base.withMethod("GET").withStatus(200).withDurationMillis(12.05))).isTrue();
        assertThat(tracker.record(base.withMethod("GE T"))).isTrue();
        assertThat(tracker.record(base.withMethod("ABCDEFGHIJKLMNOPQ"))).isTrue();
        assertThat(tracker.record(base.withMethod(""))).isTrue();
        assertThat(tracker.record(base.withStatus(99))).isTrue();
        assertThat(tracker.record(base.withStatus(600))).isTrue();
        assertThat(tracker.record(base.withDurationMillis(-1))).isTrue();
        assertThat(tracker.record(base.withDurationMillis(Double.NaN))).isTrue();
        assertThat(tracker.record(base.withDurationMillis(3_600_000.5))).isTrue();
        assertThat(tracker.record(base.withDurationNanos(1_500))).isTrue();
        assertThat(tracker.record(base.withMethod("M-SEARCH").withStatus(599).withDurationMillis(3_600_000))).isTrue();
        FakeIngest.Request r = ingest.next();
        String ts = "\"ip\":\"192.0.2.1\",\"endpoint\":\"/f\",\"timestamp\":\"2026-12-06T10:00:00.123Z\"";
        assertThat(r.body()).isEqualTo("{\"hits\":[{" + ts + ",\"method\":\"GET\",\"status\":200,\"duration_ms\":12.05}"
                + (",{" + ts + "}").repeat(8) + ",{" + ts + ",\"duration_ms\":0.002}"
                + ",{" + ts + ",\"method\":\"M-SEARCH\",\"status\":599,\"duration_ms\":3600000}]}");
        ticker.awaitIdle();
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(11, 11, 0, 0, 0, 0));
        assertThat(events).containsExactlyInAnyOrder("field method 3", "field status 2", "field duration_ms 3");
        assertThat(tracker.record((UsageTracker.Hit) null)).isFalse();
        assertThat(tracker.record(UsageTracker.Hit.of("bad ip", "/f").withStatus(200))).isFalse();
        assertThat(tracker.stats().rejected()).isEqualTo(2);
    }

    @Test
    void durationsAreWrittenToTheMicrosecondWithoutExponents() {
        Instant t = Instant.parse("2026-12-06T10:00:00Z");
        for (var c : Map.of(0.0, "0", 0.0001, "0", 0.001, "0.001", 0.0105, "0.011", 1e-7, "0", 12.5, "12.5", 100.02, "100.02",
                3_600_000.0, "3600000", 7.000004, "7").entrySet()) {
            String json = Sender.hitJson(new UsageTracker.Hit("192.0.2.1", "/d", t, null, null, c.getKey()));
            assertThat(json).as("%s", c.getKey()).endsWith(",\"duration_ms\":" + c.getValue() + "}");
        }
    }

    @Test
    void aServiceBeforeV12RefusingTheNewFieldsGetsTheHitsWithoutThemNoneLost() throws Exception {
        // as the old service answered: one unknown field named per request (Jackson stops at the first)
        ingest.fallback = r -> r.body().contains("\"method\"") || r.body().contains("\"status\"")
                ? new Reply(400, Map.of(), "{\"status\":400,\"errors\":[{\"field\":\"hits[0].method\",\"message\":\"unknown field\"}]}")
                : FakeIngest.accepted(r.hits());
        tracker = builder().maxBatchSize(4).build();
        for (int i = 0; i < 4; i++) tracker.record(UsageTracker.Hit.of("192.0.2.1", "/o").withMethod("GET").withStatus(200));
        FakeIngest.Request first = ingest.next();
        FakeIngest.Request again = ingest.next();
        assertThat(again.hits()).isEqualTo(4);
        assertThat(again.idempotencyKey()).isNotEqualTo(first.idempotencyKey());
        assertThat(again.body()).doesNotContain("method").doesNotContain("status");
        tracker.flush().get(5, TimeUnit.SECONDS);
        tracker.record(UsageTracker.Hit.of("192.0.2.1", "/o").withStatus(201));
        tracker.flush().get(5, TimeUnit.SECONDS);
        assertThat(ingest.next().body()).doesNotContain("status");
        assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(5, 5, 0, 0, 0, 0));
        assertThat(events).containsExactly("field method, status, duration_ms 4");
    }
}
