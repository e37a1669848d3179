package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.client.UsageTracker;
import dev.usagetracker.queue.DeadLetterRedrive;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java SDK's promise (DESIGN.md §8, docs/sdk.md) through the real stack: 16 threads record 100,000
 * hits into one {@link UsageTracker} while redis-server is killed and restarted, ingest answers 503
 * (SQS and DynamoDB cut off, as in {@link FaultInjectionIT}) and the local runtime itself is closed and a
 * new one started on the same port with the same emulators. After {@code close()} nothing is pending, and
 * {@code /api/usage/daily} counts exactly what the SDK reports as acknowledged: no loss, no double count.
 * Own emulators, so the damage stays here.
 */
class SdkFaultIT {
    static final String ADMIN_KEY = "sdk-fault-admin-key-0123456789";
    static final int THREADS = 16;
    static final int HITS = 100_000;

    static Emulators emulators;
    static FaultProxy sqsProxy;
    static FaultProxy awsProxy;
    static volatile LocalRuntime runtime;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        emulators = Emulators.start(TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/sdk-faults"), 0, 0, 0);
        sqsProxy = new FaultProxy("sqs", URI.create(emulators.sqsEndpoint()).getPort());
        awsProxy = new FaultProxy("moto", URI.create(emulators.awsEndpoint()).getPort());
        port = ManagedProcess.freePort();
        runtime = startRuntime();
    }

    /** The same port, emulators, resource prefix and settings every time: a restart of the same deployment. */
    static LocalRuntime startRuntime() throws Exception {
        return startRuntime(emulators, sqsProxy, awsProxy, port, ADMIN_KEY, "sdkf-");
    }

    /** A runtime behind the two fault proxies with quotas out of the way (PythonSdkIT's too). */
    static LocalRuntime startRuntime(Emulators emulators, FaultProxy sqsProxy, FaultProxy awsProxy, int port, String adminKey,
            String prefix) throws Exception {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("AWS_ENDPOINT_URL_SQS", sqsProxy.endpoint());
        env.put("AWS_ENDPOINT_URL_DYNAMODB", awsProxy.endpoint());
        env.put("AWS_ENDPOINT_URL_KMS", awsProxy.endpoint());
        env.put("RETRY_BASE_SECONDS", "1");
        env.put("RETRY_MAX_SECONDS", "3");
        env.put("WS_PORT", "0");
        // one client sends 100,000 hits in ~30 s: the test is about faults, not quotas (raised as FaultInjectionIT does)
        env.put("RateLimitIngest", "1000000/1m");
        env.put("RateLimitIngestHits", "100000000/1m"); // ~3,300 hits/s: over the default abuse cap of 60,000/min
        env.put("RateLimitRead", "100000/1m");
        env.put("RateLimitRegister", "100000/1m");
        return LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", port, Optional.of(emulators), env,
                Optional.of(adminKey), Optional.of(Duration.ofMillis(200)), 2, 4, false, prefix));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (sqsProxy != null) sqsProxy.close();
        if (awsProxy != null) awsProxy.close();
        if (emulators != null) emulators.close();
    }

    @Test
    void everyAcknowledgedHitIsCountedOnceThroughRedisLossIngest503sAndARuntimeRestart() throws Exception {
        String base = "http://127.0.0.1:" + port;
        HttpJson api = new HttpJson(base);
        String clientId = "sdk-" + UUID.randomUUID().toString().substring(0, 8);
        HttpJson.Reply reg = api.post("/api/register", Map.of("name", clientId, "email", clientId + "@sdk.example", "client_id", clientId), Map.of());
        assertThat(reg.status()).as(reg.body()).isEqualTo(201);
        String apiKey = reg.json().get("api_key").asText();

        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        List<String> stops = new ArrayList<>();
        UsageTracker tracker = UsageTracker.builder(URI.create(base), apiKey)
                .flushInterval(Duration.ofMillis(250))
                .maxBufferedHits(HITS)
                // the backoff's cap shortened from 30 s so that the test ends soon after the faults do
                .retryBackoff(Duration.ofMillis(500), Duration.ofSeconds(4))
                .requestTimeout(Duration.ofSeconds(15))
                .closeTimeout(Duration.ofSeconds(120))
                .listener(new UsageTracker.Listener() {
                    @Override
                    public void onRetry(int status, Duration delay, int attempt, String detail) {
                        statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                    }

                    @Override
                    public void onSendingStopped(int status, String problemType, String detail) {
                        stops.add(status + " " + problemType);
                    }
                })
                .build();
        assertThat(tracker.toString()).doesNotContain(apiKey);

        // 16 threads, ~30 s of traffic: 100,000 hits at ~3,300/s
        CountDownLatch done = new CountDownLatch(THREADS);
        AtomicInteger refused = new AtomicInteger();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            Thread.ofPlatform().daemon().name("sdk-load-" + t).start(() -> {
                try {
                    for (int i = 0; i < HITS / THREADS; i++) {
                        if (!tracker.record("198.51.100." + (thread + 1), "/api/items/" + (i % 50))) refused.incrementAndGet();
                        if (i % 20 == 19) ManagedProcess.sleep(95);
                    }
                } finally {
                    done.countDown();
                }
            });
        }

        ManagedProcess.sleep(4_000);
        // (a) Redis dies and comes back: limits fall back to the per-container limiter, ingest goes on
        emulators.redis().kill();
        ManagedProcess.sleep(3_000);
        emulators.startRedis();
        ManagedProcess.sleep(3_000);
        // (b) neither SQS nor DynamoDB can take a hit: ingest answers 503 + Retry-After
        sqsProxy.cut();
        awsProxy.cut();
        ManagedProcess.sleep(5_000);
        long ackedDuringOutage = tracker.stats().acknowledged();
        ManagedProcess.sleep(1_000);
        assertThat(tracker.stats().acknowledged()).as("nothing acknowledged while ingest cannot make hits durable").isEqualTo(ackedDuringOutage);
        awsProxy.restore();
        sqsProxy.restore();
        ManagedProcess.sleep(3_000);
        // (c) the runtime goes away mid-request and a new one takes its port, with the same emulators
        runtime.close();
        ManagedProcess.sleep(1_000);
        runtime = startRuntime();

        assertThat(done.await(120, TimeUnit.SECONDS)).as("recording finished").isTrue();
        UsageTracker.Stats beforeClose = tracker.stats();
        long t0 = System.nanoTime();
        tracker.close();
        long closeMillis = (System.nanoTime() - t0) / 1_000_000;
        UsageTracker.Stats s = tracker.stats();
        System.out.println("SDK under faults: " + s + "; before close " + beforeClose + "; close took " + closeMillis
                + " ms; retries by status (0 = network) " + statuses + "; stops " + stops);

        assertThat(s.recorded()).isEqualTo(HITS);
        assertThat(s.pending()).isZero();
        assertThat(s.recorded()).isEqualTo(s.acknowledged() + s.dropped() + s.rejected());
        assertThat(s.dropped()).as("the buffer held everything through the outages").isZero();
        assertThat(s.rejected()).isZero();
        assertThat(refused.get()).isZero();
        assertThat(statuses).as("the faults reached the SDK: 503s and lost connections").containsKeys(0, 503);
        assertThat(stops).isEmpty();

        long counted = settle(api, apiKey, Duration.ofSeconds(90));
        System.out.println("SDK under faults: acknowledged " + s.acknowledged() + ", counted by /api/usage/daily " + counted);
        assertThat(counted).as("counted exactly what was acknowledged").isEqualTo(s.acknowledged());
    }

    /** Waits for the queue to drain (redriving the DLQ if needed) and the count to hold still; returns it. */
    static long settle(HttpJson api, String apiKey, Duration timeout) throws Exception {
        return settle(runtime, api, apiKey, timeout);
    }

    /** As above, for any runtime (PythonSdkIT's too). */
    static long settle(LocalRuntime runtime, HttpJson api, String apiKey, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Long last = null;
        while (System.nanoTime() < deadline) {
            Readiness.Report report = runtime.readiness().check();
            Readiness.Component sqs = report.components().get("sqs");
            boolean up = report.components().get("dynamodb").status() == Readiness.State.ok && sqs.status() != Readiness.State.down;
            if (up && sqs.metrics().getOrDefault("dead_letters", 0L) > 0) {
                new DeadLetterRedrive(runtime.sqs()).redrive(runtime.resource("HitsDeadLetterQueue"), runtime.resource("HitsQueue"),
                        Duration.ofMinutes(1));
                continue;
            }
            if (up && sqs.metrics().getOrDefault("queued", 1L) == 0 && sqs.metrics().getOrDefault("in_flight", 1L) == 0) {
                long now = total(api, apiKey);
                if (last != null && last == now) return now;
                last = now;
                ManagedProcess.sleep(2_000);
                continue;
            }
            last = null;
            ManagedProcess.sleep(500);
        }
        throw new AssertionError("the stack did not settle: " + runtime.readiness().check());
    }

    /** The client's own total over today and yesterday (a run may cross midnight UTC), read as that client. */
    static long total(HttpJson api, String apiKey) {
        String token = LocalRuntimeE2EIT.token(api, apiKey);
        HttpJson.Reply daily = api.get("/api/usage/daily?days=2", Map.of("Authorization", "Bearer " + token));
        assertThat(daily.status()).as(daily.body()).isEqualTo(200);
        JsonNode clients = daily.json().get("clients");
        assertThat(clients).hasSize(1);
        return clients.get(0).get("total").asLong();
    }
}
