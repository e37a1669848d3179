package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.client.JumpingTicker;
import dev.usagetracker.client.UsageTracker;
import dev.usagetracker.http.Json;
import dev.usagetracker.store.DynamoClientStore;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole promise of issue 29, as a property: whatever the interleaving of lost answers, retries,
 * clock jumps, quota edges, a month's end, SQS outages and an erasure with the id registered again,
 * every Java SDK's books balance ({@code recorded == acknowledged + pending + dropped + rejected}) and
 * what the live registration's SDK was told is acknowledged is exactly what is counted (plus, at most once,
 * hits of a batch it dropped after an attempt whose answer was lost).
 *
 * <p>The SDK ({@code client/}) talks HTTP to a small front in this JVM that hands each request to the
 * ingest function's handler ({@link InProcessStack}: the real DynamoDB, SQS and Redis, a clock the test
 * moves) and can lose the answer after the handler ran, as a dropped connection would. A seed fixes the
 * sequence of operations (which faults, when, how many hits, how far the clock jumps); thread scheduling
 * is not fixed. Every seed that ever failed stays in {@link #REGRESSION_SEEDS}; {@code -Dproperty.seeds=n}
 * runs n more random ones ({@code -Dproperty.seed=s} one chosen seed).
 */
@ExtendWith(TestStack.Extension.class)
class ExactlyOncePropertyIT {
    /** Seeds that failed once (with what they found), kept as regression cases. */
    static final long[] REGRESSION_SEEDS = {
            103587145092006084L, // a batch dropped after 24 h had landed on an attempt whose answer was lost
            3023074449782420026L, // found with the one above (two test JVMs, issue 27)
    };
    static final int RANDOM_SEEDS = Integer.getInteger("property.seeds", 3);
    static final int STEPS = 20;
    static final Principal ADMIN = new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN));

    static InProcessStack stack;
    static DynamoClientStore clients;
    static HttpServer front;
    static final AtomicInteger loseAnswers = new AtomicInteger();
    static final AtomicInteger lost = new AtomicInteger();
    static final AtomicInteger inFlight = new AtomicInteger();

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = InProcessStack.start(s, "prop-", Map.of("PlanCacheSeconds", "1", "PLAN_CACHE_SECONDS", "1"),
                Instant.parse("2026-11-30T20:00:00Z"));
        clients = new DynamoClientStore(stack.app.clients().dynamo(), stack.config.clientsTable(), stack.clock);
        front = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        front.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        front.createContext("/api/logs", ExactlyOncePropertyIT::ingest);
        front.start();
    }

    @AfterAll
    static void stop() {
        if (front != null) front.stop(0);
        if (stack != null) stack.close();
    }

    static LongStream seeds() {
        String one = System.getProperty("property.seed");
        if (one != null) return LongStream.of(Long.parseLong(one));
        long base = Long.getLong("property.base", System.nanoTime());
        Random r = new Random(base);
        return LongStream.concat(LongStream.of(REGRESSION_SEEDS), LongStream.generate(r::nextLong).limit(RANDOM_SEEDS));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyAcknowledgedHitIsCountedOnceAndTheBooksBalance(long seed) throws Exception {
        Run run = new Run(seed);
        try {
            run.play();
        } catch (AssertionError | Exception e) {
            throw new AssertionError("seed " + seed + " failed (add it to REGRESSION_SEEDS); operations:\n"
                    + String.join("\n", run.log), e);
        }
    }

    /** One seed's play: its own client id, plan and SDKs. */
    static final class Run {
        final long seed;
        final Random random;
        final List<String> log = new ArrayList<>();
        final String clientId = "prop-" + UUID.randomUUID().toString().substring(0, 10);
        final List<UsageTracker> generations = new ArrayList<>();
        final List<JumpingTicker> tickers = new ArrayList<>();
        final Instant start;
        UsageTracker tracker;

        Run(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            // near a month's end half the time, so the month rolls over during the play
            start = random.nextBoolean() ? Instant.parse("2026-11-30T21:00:00Z").plus(Duration.ofMinutes(random.nextInt(120)))
                    : Instant.parse("2026-12-10T08:00:00Z").plus(Duration.ofHours(random.nextInt(48)));
        }

        void play() throws Exception {
            stack.clock.set(start);
            String plan = plan();
            register(plan);
            for (int step = 0; step < STEPS; step++) {
                int op = random.nextInt(100);
                if (op < 40) record(1 + random.nextInt(40));
                else if (op < 55) lose(1 + random.nextInt(2));
                else if (op < 67) jump();
                else if (op < 75) sqsOutage();
                else if (op < 85) drain();
                else if (op < 93) flush();
                else if (op < 97 && generations.size() == 1) eraseAndRegisterAgain(plan); // once: its SDK's close waits
                else sleep(50 + random.nextInt(200));
            }
            finish();
        }

        private String plan() {
            String name = "p" + Long.toHexString(seed & 0xffffffL) + UUID.randomUUID().toString().substring(0, 4);
            Map<String, Object> body = new HashMap<>();
            if (random.nextBoolean()) {
                // a refused quota the play will reach: quota edges, 429 quota-exceeded with Retry-After
                body.put("monthly_quota", 40 + random.nextInt(200));
                body.put("enforcement", "refuse");
            }
            stack.app.plans().service().put(ADMIN, name, Json.MAPPER.valueToTree(body));
            log.add("plan " + body);
            return name;
        }

        private void register(String plan) {
            String apiKey = stack.register(clientId);
            clients.assignPlan(clientId, plan);
            int batch = 1 + random.nextInt(60);
            JumpingTicker ticker = new JumpingTicker();
            tickers.add(ticker);
            tracker = ticker.install(UsageTracker.builder(URI.create("http://127.0.0.1:" + front.getAddress().getPort()), apiKey))
                    .clock(stack.clock)
                    .flushInterval(Duration.ofMillis(20 + random.nextInt(80)))
                    .maxBatchSize(batch)
                    .maxBufferedHits(2_000)
                    .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(200))
                    .requestTimeout(Duration.ofSeconds(20))
                    .authRetryInterval(Duration.ofMillis(200))
                    .closeTimeout(Duration.ofSeconds(4))
                    .build();
            generations.add(tracker);
            log.add("register generation " + generations.size() + " (batches of " + batch + ")");
        }

        private void record(int n) {
            for (int i = 0; i < n; i++) tracker.record("198.51.100." + (1 + random.nextInt(200)), "/p/" + random.nextInt(20));
            log.add("record " + n + " at " + stack.clock.instant());
        }

        private void lose(int n) {
            loseAnswers.set(n);
            log.add("lose the next " + n + " answer(s)");
        }

        /** Minutes, hours, or (rarely) past the Idempotency-Key's 24 h life. */
        private void jump() {
            int kind = random.nextInt(10);
            Duration d = kind < 5 ? Duration.ofMinutes(1 + random.nextInt(30))
                    : kind < 9 ? Duration.ofHours(1 + random.nextInt(6)) : Duration.ofHours(24).plusMinutes(1 + random.nextInt(60));
            // Past 24 h a retry would be a new request to the server: the SDK gives such a batch up as dropped
            // (issue 29, finding 2), its age measured on its ticker, which jumps with the clock.
            stack.clock.advance(d);
            for (JumpingTicker t : tickers) t.jump(d); // the SDK's batch ages and waits follow the clock
            log.add("clock +" + d + " → " + stack.clock.instant());
        }

        private void sqsOutage() {
            if (stack.sqsProxy.isCut()) {
                stack.sqsProxy.restore();
                log.add("SQS back");
            } else {
                stack.sqsProxy.cut();
                log.add("SQS cut");
            }
        }

        private void drain() {
            log.add("consumer drained " + stack.drain() + " message(s)");
        }

        private void flush() throws Exception {
            try {
                tracker.flush().get(2, TimeUnit.SECONDS);
                log.add("flush");
            } catch (java.util.concurrent.TimeoutException e) {
                log.add("flush (still waiting)");
            }
        }

        private void sleep(int millis) throws InterruptedException {
            Thread.sleep(millis);
            log.add("sleep " + millis + " ms");
        }

        private void eraseAndRegisterAgain(String plan) throws Exception {
            if (stack.sqsProxy.isCut()) sqsOutage(); // the erasure request queues its work in SQS
            stack.erase(clientId);
            log.add("erase " + clientId);
            tracker.close();
            stack.clock.advance(Duration.ofMinutes(1));
            for (JumpingTicker t : tickers) t.jump(Duration.ofMinutes(1));
            register(plan);
        }

        private void finish() throws Exception {
            loseAnswers.set(0);
            stack.sqsProxy.restore();
            awaitQuiet();
            for (UsageTracker t : generations) t.close();
            stack.drain();
            log.add("closed; lost answers so far: " + lost.get());
            for (int g = 0; g < generations.size(); g++) {
                UsageTracker.Stats s = generations.get(g).stats();
                log.add("generation " + (g + 1) + ": " + s);
                assertThat(s.recorded()).as("generation %d: recorded == acknowledged + pending + dropped + rejected", g + 1)
                        .isEqualTo(s.acknowledged() + s.pending() + s.dropped() + s.rejected());
            }
            UsageTracker.Stats live = tracker.stats();
            long counted = counted();
            log.add("counted " + counted);
            // A batch the SDK gave up on after the key's 24 h life may have landed on an attempt whose answer
            // was lost: its hits are reported dropped, and counted at most once (docs/reliability.md). Every
            // acknowledged hit is counted exactly once, and nothing beyond what was sent.
            if (live.dropped() == 0) {
                assertThat(counted).as("the live registration: acknowledged == counted").isEqualTo(live.acknowledged());
            } else {
                assertThat(counted).as("the live registration: acknowledged <= counted <= acknowledged + dropped")
                        .isBetween(live.acknowledged(), live.acknowledged() + live.dropped());
            }
            System.out.println("seed " + seed + ": " + String.join(" | ", log));
        }

        /**
         * Until the live SDK has nothing left to send, or holds only what the server refuses for good (a
         * closed month over its refused quota), with no request in flight: then every batch it sent has
         * its final answer, and what was acknowledged is all that may be counted.
         */
        private void awaitQuiet() throws InterruptedException {
            tracker.flush();
            String last = "";
            long quietSince = System.nanoTime();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                UsageTracker.Stats s = tracker.stats();
                if (s.pending() == 0 && inFlight.get() == 0) return;
                String now = s.acknowledged() + "/" + s.dropped() + "/" + s.rejected() + "/" + s.pending();
                if (!now.equals(last) || inFlight.get() > 0) {
                    last = now;
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > Duration.ofSeconds(2).toNanos()) {
                    log.add("held at the end: " + s);
                    return;
                }
                Thread.sleep(50);
            }
            throw new AssertionError("the SDK did not settle: " + tracker.stats());
        }

        /** The client's daily aggregates from the day before the start to the clock's day. */
        private long counted() {
            List<LocalDate> days = new ArrayList<>();
            for (LocalDate d = LocalDate.ofInstant(start, ZoneOffset.UTC).minusDays(1);
                 !d.isAfter(LocalDate.ofInstant(stack.clock.instant(), ZoneOffset.UTC)); d = d.plusDays(1)) {
                days.add(d);
            }
            return stack.app.usage().store().dailyCounts(clientId, days).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The ingest function behind a gateway that can lose the answer after the function ran. */
    private static void ingest(HttpExchange exchange) throws IOException {
        inFlight.incrementAndGet();
        try (exchange) {
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.getFirst()));
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            APIGatewayV2HTTPResponse r = stack.ingest.handleRequest(InProcessStack.event("POST", "/api/logs", headers, body),
                    new LocalContext(UUID.randomUUID().toString(), "IngestFunction", 512, System.currentTimeMillis() + 30_000));
            byte[] answer = r.getBody() == null ? new byte[0] : r.getBody().getBytes(StandardCharsets.UTF_8);
            if (r.getHeaders() != null) r.getHeaders().forEach((k, v) -> exchange.getResponseHeaders().set(k,
                    // The server's clock is simulated: waits it asks for (a quota's month end, 5 s) pass in a second.
                    k.equalsIgnoreCase("Retry-After") ? "1" : v));
            if (loseAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                // The function ran; the connection drops before the client has the whole answer.
                lost.incrementAndGet();
                exchange.sendResponseHeaders(r.getStatusCode(), answer.length + 64L);
                return;
            }
            exchange.sendResponseHeaders(r.getStatusCode(), answer.length == 0 ? -1 : answer.length);
            if (answer.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(answer);
                }
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }
}
