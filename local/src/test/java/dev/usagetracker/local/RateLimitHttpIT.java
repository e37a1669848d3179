package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.store.DynamoClientStore;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The limits as a client sees them over HTTP, through the function jars and the real redis-server: the
 * draft headers from the first request to the last allowed one, the 429, plans from the client row, and
 * a sliding window rolling over on the server's clock.
 */
@ExtendWith(TestStack.Extension.class)
class RateLimitHttpIT {
    static final String PREFIX = "rl-http-";
    static final String ADMIN_KEY = "rl-http-admin-key-0123456789";
    static LocalRuntime runtime;
    static HttpJson api;
    static DynamoClientStore clients;
    static String adminToken;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", "rl-http", // the Redis key prefix: no other test shares these counters
                        "RateLimitIngest", "5/1m,8/1h",
                        "RateLimitIngestHits", "20/1m",
                        // exact counts need Redis in charge: on a loaded 2-core machine 100 ms commands time out
                        // and the approximate local fallback (quota / 10 containers) would answer instead
                        "REDIS_TIMEOUT_MS", "3000",
                        "REDIS_CONNECT_TIMEOUT_MS", "5000",
                        "RateLimitRead", "4/1m",
                        "RateLimitRegister", "3/1m",
                        "RateLimitPlans", "{\"ops\":{\"read\":\"off\"},\"pro\":{\"ingest\":\"50/1m\",\"ingest_hits\":\"1000/1m\",\"read\":\"off\"},"
                                + "\"short\":{\"ingest\":\"2/2s\"}}"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 2, 2, false, PREFIX));
        api = new HttpJson(runtime.baseUrl());
        clients = new DynamoClientStore(stack.dynamo(), PREFIX + "ClientsTable", java.time.Clock.systemUTC());
        clients.assignPlan("admin", "ops");
        adminToken = token(ADMIN_KEY);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void ingestCountsRequestsCapsHitsAndIsExactFromTheFirstRequestToTheLastAllowed() {
        String id = "acme-" + UUID.randomUUID().toString().substring(0, 8);
        String key = register(id);
        Map<String, String> auth = Map.of("X-API-Key", key);

        Reply first = api.post("/api/logs", hit(1), auth);
        assertThat(first.status()).isEqualTo(202);
        assertThat(first.header("RateLimit-Policy"))
                .isEqualTo("\"ingest-1m\";q=5;w=60,\"ingest-1h\";q=8;w=3600,\"ingest_hits-1m\";q=20;w=60");
        // the minute counts in 1 s slots, the hour in 1 min slots: t is the window less the time into the slot
        assertThat(first.header("RateLimit"))
                .matches("\"ingest-1m\";r=4;t=(59|60),\"ingest-1h\";r=7;t=(35[4-9][0-9]|3600),\"ingest_hits-1m\";r=19;t=(59|60)");

        // a batch is one request, and n hits against the hits cap
        Reply batch = api.post("/api/logs", Map.of("hits", hits(3)), auth);
        assertThat(batch.status()).isEqualTo(202);
        assertThat(batch.header("RateLimit")).startsWith("\"ingest-1m\";r=3;").contains("\"ingest-1h\";r=6;")
                .contains("\"ingest_hits-1m\";r=16;");

        assertThat(api.post("/api/logs", hit(3), auth).status()).isEqualTo(202);
        assertThat(api.post("/api/logs", hit(4), auth).status()).isEqualTo(202);
        Reply lastAllowed = api.post("/api/logs", hit(5), auth);
        assertThat(lastAllowed.status()).isEqualTo(202);
        assertThat(lastAllowed.header("RateLimit")).startsWith("\"ingest-1m\";r=0;").contains("\"ingest_hits-1m\";r=13;");

        Reply refused = api.post("/api/logs", hit(6), auth);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(refused.json().get("type").asText()).endsWith("/rate-limited");
        assertThat(refused.json().get("detail").asText()).contains("ingest-1m");
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertThat(retryAfter).isBetween(1L, 60L);
        assertThat(refused.header("RateLimit")).startsWith("\"ingest-1m\";r=0;t=" + retryAfter + ",");

        // a batch above the hits cap can never pass: 400, and it costs nothing
        Reply tooBig = api.post("/api/logs", Map.of("hits", hits(21)), auth);
        assertThat(tooBig.status()).isEqualTo(400);
        assertThat(tooBig.header("Retry-After")).isNull();

        // 7 accepted hits are counted; the refused ones never reach the queue
        assertThat(awaitTotal(id, 7)).isEqualTo(7);
    }

    @Test
    void tokensAndUsageReadsShareTheReadQuotaAndErrorsCarryTheHeaders() {
        String id = "reader-" + UUID.randomUUID().toString().substring(0, 8);
        String key = register(id);
        Reply token = api.post("/api/token", "application/json", "", Map.of("X-API-Key", key));
        assertThat(token.status()).isEqualTo(200);
        assertThat(token.header("RateLimit")).startsWith("\"read-1m\";r=3;");
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + token.json().get("access_token").asText());

        assertThat(api.get("/api/usage/daily", bearer).header("RateLimit")).startsWith("\"read-1m\";r=2;");
        Reply invalid = api.get("/api/usage/daily?days=0", bearer);
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.header("RateLimit")).startsWith("\"read-1m\";r=1;");
        Reply forbidden = api.get("/api/usage/top", bearer);
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.header("RateLimit")).startsWith("\"read-1m\";r=0;");
        Reply refused = api.get("/api/usage/daily", bearer);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Retry-After")).isNotNull();
        // ingest is a separate class with its own quota
        assertThat(api.post("/api/logs", hit(1), bearer).status()).isEqualTo(202);
    }

    @Test
    void aPlanOnTheClientRowReachesApiKeyAndBearerRoutesAndTheHitsCapRefusesAFlood() {
        String id = "big-" + UUID.randomUUID().toString().substring(0, 8);
        String key = register(id);
        clients.assignPlan(id, "pro");
        Reply batch = api.post("/api/logs", Map.of("hits", hits(20)), Map.of("X-API-Key", key));
        assertThat(batch.status()).isEqualTo(202);
        assertThat(batch.header("RateLimit-Policy")).isEqualTo("\"ingest-1m\";q=50;w=60,\"ingest_hits-1m\";q=1000;w=60");
        assertThat(batch.header("RateLimit")).startsWith("\"ingest-1m\";r=49;").contains("\"ingest_hits-1m\";r=980;");

        // bearer routes get the plan from the client row the authorizer checks anyway
        Reply token = api.post("/api/token", "application/json", "", Map.of("X-API-Key", key));
        assertThat(token.header("RateLimit-Policy")).as("pro reads are unlimited").isNull();
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + token.json().get("access_token").asText());
        // a batch of 500 hits costs one ingest request
        Reply big = api.post("/api/logs", Map.of("hits", hits(500)), bearer);
        assertThat(big.status()).isEqualTo(202);
        assertThat(big.header("RateLimit")).startsWith("\"ingest-1m\";r=48;").contains("\"ingest_hits-1m\";r=480;");
        // the flood: the next 500 would pass the hits cap, though the request budget has 48 left
        Reply flood = api.post("/api/logs", Map.of("hits", hits(500)), bearer);
        assertThat(flood.status()).isEqualTo(429);
        assertThat(flood.json().get("detail").asText()).contains("ingest_hits-1m").doesNotContain("ingest-1m");
        assertThat(flood.header("RateLimit")).startsWith("\"ingest-1m\";r=48;");
        assertThat(api.post("/api/logs", Map.of("hits", hits(480)), bearer).status()).isEqualTo(202);
        assertThat(api.post("/api/logs", hit(1), bearer).status()).isEqualTo(429);
        for (int i = 0; i < 6; i++) assertThat(api.get("/api/usage/daily", bearer).status()).isEqualTo(200);
        assertThat(awaitTotal(id, 1000)).isEqualTo(1000);
    }

    @Test
    void theWindowRollsOverOnTheServersClock() {
        String id = "short-" + UUID.randomUUID().toString().substring(0, 8);
        String key = register(id);
        clients.assignPlan(id, "short");
        Map<String, String> auth = Map.of("X-API-Key", key);
        assertThat(api.post("/api/logs", hit(1), auth).status()).isEqualTo(202);
        assertThat(api.post("/api/logs", hit(2), auth).status()).isEqualTo(202);
        Reply refused = api.post("/api/logs", hit(3), auth);
        assertThat(refused.status()).isEqualTo(429);
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertThat(retryAfter).isBetween(1L, 2L);
        ManagedProcess.sleep(retryAfter * 1000 + 100);
        Reply rolled = api.post("/api/logs", hit(4), auth);
        assertThat(rolled.status()).as("Retry-After was long enough").isEqualTo(202);
        assertThat(awaitTotal(id, 3)).isEqualTo(3);
    }

    @Test
    void registrationIsLimitedPerSourceIpWhateverTheOutcome() throws Exception {
        HttpJson other = new HttpJson(runtime.baseUrl(), InetAddress.getByName("127.0.0.2"));
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Reply ok = other.post("/api/register", Map.of("name", "Ip", "email", "ip-" + suffix + "@example.com"), Map.of());
        assertThat(ok.status()).isEqualTo(201);
        assertThat(ok.header("RateLimit")).startsWith("\"register-1m\";r=2;");
        // invalid and duplicate attempts count too: that is what stops probing for registered emails
        assertThat(other.post("/api/register", Map.of("name", "", "email", "nope"), Map.of()).status()).isEqualTo(400);
        assertThat(other.post("/api/register", Map.of("name", "Ip", "email", "ip-" + suffix + "@example.com"), Map.of()).status())
                .isEqualTo(409);
        Reply refused = other.post("/api/register", Map.of("name", "Ip", "email", "ip2-" + suffix + "@example.com"), Map.of());
        assertThat(refused.status()).isEqualTo(429);
        // another address has its own budget
        assertThat(register("ip-other-" + suffix)).startsWith("ut_");
    }

    // --- helpers -------------------------------------------------------------------------------

    private static final java.util.concurrent.atomic.AtomicInteger NEXT_ADDRESS = new java.util.concurrent.atomic.AtomicInteger(1);

    /** Registers from a loopback address of its own, so the per-IP limit of one test never trips another. */
    static String register(String id) {
        try {
            return register(new HttpJson(runtime.baseUrl(), InetAddress.getByName("127.0.1." + NEXT_ADDRESS.getAndIncrement())), id);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static String register(HttpJson client, String id) {
        Reply r = client.post("/api/register", Map.of("name", id, "email", id + "@example.com", "client_id", id), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("api_key").asText();
    }

    static String token(String apiKey) {
        Reply r = api.post("/api/token", "application/json", "", Map.of("X-API-Key", apiKey));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("access_token").asText();
    }

    static Map<String, String> hit(int n) {
        return Map.of("ip", "198.51.100." + (n % 250), "endpoint", "/r/" + n);
    }

    static List<Map<String, String>> hits(int n) {
        List<Map<String, String>> hits = new ArrayList<>();
        for (int i = 0; i < n; i++) hits.add(hit(i));
        return hits;
    }

    /** The client's recorded hits today, once the consumer has caught up and the count holds still. */
    static long awaitTotal(String clientId, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long total = -1;
        while (System.nanoTime() < deadline) {
            total = total(clientId);
            if (total >= expected) {
                ManagedProcess.sleep(1_500);
                return total(clientId);
            }
            ManagedProcess.sleep(200);
        }
        return total;
    }

    static long total(String clientId) {
        Reply r = api.get("/api/usage/daily?days=1&client_id=" + clientId, Map.of("Authorization", "Bearer " + adminToken));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode clients = r.json().get("clients");
        return clients.isEmpty() ? 0 : clients.get(0).get("total").asLong();
    }
}
