package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.store.DynamoClientStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Exactness under contention: two runtimes (two "deployments" of the same stack) with up to four
 * containers each, 50 threads hammering one client through both. Every container has its own Redis
 * connection and class loader; together they must accept exactly the quota, and the consumer must
 * count exactly the accepted hits: a 429 is never recorded.
 *
 * <p>Tagged {@code solo}: its 50 threads on eight cold containers load the machine themselves, and beside another
 * test JVM a request outlasted the client's 30 s timeout, which leaves a unit neither counted as spent nor as
 * unspent; it runs in a test JVM of its own after the others (local/pom.xml).
 */
@Tag("solo")
@ExtendWith(TestStack.Extension.class)
class RateLimitConcurrencyIT {
    static final String PREFIX = "rl-conc-";
    static final String ADMIN_KEY = "rl-conc-admin-key-0123456789";
    static final int QUOTA = 40;
    static final int THREADS = 50;
    static final int REQUESTS_PER_THREAD = 4;

    @Test
    void fiftyThreadsOnEightContainersGetExactlyTheQuota(TestStack stack) throws Exception {
        Map<String, String> env = Map.of(
                "Stage", "rl-conc",
                // an hour window: nothing slides out while the test runs, so "exactly" is exact
                "RateLimitIngest", QUOTA + "/1h",
                "RateLimitPlans", "{\"ops\":{\"read\":\"off\"}}",
                // This is about atomicity, not latency: eight cold containers on two cores can stall a
                // command past the production timeouts, and the local fallback is approximate by design.
                // Generous timeouts keep Redis in charge, and fail-closed turns any fallback into a visible 503.
                "RateLimitMode", "fail-closed",
                "REDIS_TIMEOUT_MS", "3000",
                "REDIS_CONNECT_TIMEOUT_MS", "5000");
        try (LocalRuntime a = start(stack, env); LocalRuntime b = start(stack, env)) {
            new DynamoClientStore(stack.dynamo(), PREFIX + "ClientsTable", java.time.Clock.systemUTC()).assignPlan("admin", "ops");
            List<HttpJson> apis = List.of(new HttpJson(a.baseUrl()), new HttpJson(b.baseUrl()));
            String id = "hammer-" + UUID.randomUUID().toString().substring(0, 8);
            Reply registered = apis.get(0).post("/api/register",
                    Map.of("name", "Hammer", "email", id + "@example.com", "client_id", id), Map.of());
            assertThat(registered.status()).as(registered.body()).isEqualTo(201);
            Map<String, String> auth = Map.of("X-API-Key", registered.json().get("api_key").asText());

            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            // A busy machine can make the emulated DynamoDB miss a deadline: 503, not acknowledged. Before
            // the limiter (the key lookup) it costs no quota and carries no RateLimit field; after it, it has
            // spent its unit. Either way the sums below stay exact.
            AtomicInteger unavailableBefore = new AtomicInteger();
            AtomicInteger unavailableAfter = new AtomicInteger();
            List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService threads = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    done.add(threads.submit(() -> {
                        go.await();
                        for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                            Reply r = apis.get((thread + i) % 2).post("/api/logs",
                                    Map.of("ip", "203.0.113." + thread, "endpoint", "/t/" + thread + "/" + i), auth);
                            switch (r.status()) {
                                case 202 -> accepted.incrementAndGet();
                                case 429 -> refused.incrementAndGet();
                                case 503 -> (r.header("RateLimit") == null ? unavailableBefore : unavailableAfter).incrementAndGet();
                                default -> unexpected.add(r.status() + " " + r.body());
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : done) f.get();
            } finally {
                threads.shutdown();
            }

            assertThat(unexpected).isEmpty();
            assertThat(accepted.get() + unavailableAfter.get()).as("units spent").isEqualTo(QUOTA);
            assertThat(unavailableAfter.get()).as("admitted but not stored (rare)").isLessThanOrEqualTo(3);
            assertThat(refused.get() + unavailableBefore.get()).isEqualTo(THREADS * REQUESTS_PER_THREAD - QUOTA - unavailableAfter.get());
            int containers = a.pools().get("IngestFunction").containers() + b.pools().get("IngestFunction").containers();
            assertThat(containers).as("several containers shared the work").isGreaterThanOrEqualTo(3);

            Reply admin = apis.get(1).post("/api/token", "application/json", "", Map.of("X-API-Key", ADMIN_KEY));
            String adminToken = admin.json().get("access_token").asText();
            assertThat(awaitTotal(apis.get(1), adminToken, id, accepted.get())).as("counted = acknowledged").isEqualTo(accepted.get());
        }
    }

    private static LocalRuntime start(TestStack stack, Map<String, String> env) throws Exception {
        // This test is about exact quotas, not timeouts: 50 threads on one serialised moto_server can
        // take longer than the production SDK timeouts on a loaded 2-core machine.
        Map<String, String> patient = new java.util.HashMap<>(env);
        patient.putIfAbsent("AWS_SDK_ATTEMPT_TIMEOUT_MS", "10000");
        patient.putIfAbsent("AWS_SDK_CALL_TIMEOUT_MS", "30000");
        return LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), patient, Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)),
                // a visibility timeout no slow batch outlasts: two runtimes' consumers share the queue
                60, 4, false, PREFIX));
    }

    /** Waits for the consumer, then checks the count holds still: nothing late, nothing twice. */
    private static long awaitTotal(HttpJson api, String adminToken, String clientId, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        long total = -1;
        while (System.nanoTime() < deadline) {
            total = total(api, adminToken, clientId);
            if (total >= expected) {
                ManagedProcess.sleep(2_000);
                return total(api, adminToken, clientId);
            }
            ManagedProcess.sleep(250);
        }
        return total;
    }

    private static long total(HttpJson api, String adminToken, String clientId) {
        Reply r = api.get("/api/usage/daily?days=1&client_id=" + clientId, Map.of("Authorization", "Bearer " + adminToken));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode clients = r.json().get("clients");
        return clients.isEmpty() ? 0 : clients.get(0).get("total").asLong();
    }
}
