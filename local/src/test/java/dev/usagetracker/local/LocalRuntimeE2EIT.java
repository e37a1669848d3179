package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole path over HTTP, through the same function jars that are deployed: register → token →
 * logs (single, batch, key in header, key in body, bearer) → SQS → consumer → DynamoDB → usage.
 */
@ExtendWith(TestStack.Extension.class)
class LocalRuntimeE2EIT {
    static final String ADMIN_KEY = "e2e-admin-key-0123456789";
    /** What the functions log and the EMF they write, as CloudWatch would receive them. */
    static final Path LOGS = TestStack.PROJECT_ROOT.resolve("local/target/e2e-function-logs.jsonl");
    static final Path EMF = TestStack.PROJECT_ROOT.resolve("local/target/e2e-emf.jsonl");
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        Files.deleteIfExists(LOGS);
        Files.deleteIfExists(EMF);
        // Visibility timeout 20 s: long enough that a slow first (cold) consumer run is not redelivered
        // while it still runs; moto's transactions are not isolated from each other under that overlap.
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                // every test registers from 127.0.0.1; the limits themselves are RateLimitHttpIT's subject
                Optional.of(stack.emulators()), Map.of("LOG_OUTPUT", "file:" + LOGS, "METRICS_OUTPUT", "file:" + EMF,
                        "RateLimitRegister", "1000/1m", "RateLimitRead", "1000/1m"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 20, 4, false, "e2e-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void hitTravelsFromRegistrationToDailyAndTopWithExactCounts() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        JsonNode alpha = register("Alpha " + suffix, "alpha-" + suffix + "@example.com", "alpha-" + suffix);
        JsonNode beta = register("Beta " + suffix, "beta-" + suffix + "@example.com", null);
        String alphaKey = alpha.get("api_key").asText();
        String betaKey = beta.get("api_key").asText();
        String betaId = beta.get("client_id").asText();
        assertThat(betaId).matches("[a-z0-9_-]{3,64}");

        // alpha: one hit with the key in the header, a batch of 3 with the key in the body (the brief's way)
        assertAccepted(api.post("/api/logs", Map.of("ip", "203.0.113.7", "endpoint", "/api/products"), Map.of("X-API-Key", alphaKey)), 1);
        assertAccepted(api.post("/api/logs", Map.of("api_key", alphaKey, "hits", List.of(
                hit("198.51.100.1", "/a"), hit("2001:db8::1", "/b"), hit("198.51.100.2", "/c?x=1"))), Map.of()), 3);
        // beta: 5 hits with a bearer token
        String betaToken = token(betaKey);
        List<Map<String, String>> five = new ArrayList<>();
        for (int i = 0; i < 5; i++) five.add(hit("192.0.2." + i, "/orders/" + i));
        assertAccepted(api.post("/api/logs", Map.of("hits", five), bearer(betaToken)), 5);

        JsonNode alphaDaily = awaitDaily(token(alphaKey), "", d -> total(d) == 4);
        JsonNode clients = alphaDaily.get("clients");
        assertThat(clients).hasSize(1);
        assertThat(clients.get(0).get("client_id").asText()).isEqualTo("alpha-" + suffix);
        assertThat(clients.get(0).get("name").asText()).isEqualTo("Alpha " + suffix);
        JsonNode days = clients.get(0).get("days");
        assertThat(days).hasSize(7);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(days.get(0).get("date").asText()).isEqualTo(today.minusDays(6).toString());
        assertThat(days.get(6).get("date").asText()).isEqualTo(today.toString());
        assertThat(days.get(6).get("count").asLong()).isEqualTo(4);
        for (int i = 0; i < 6; i++) assertThat(days.get(i).get("count").asLong()).isZero();
        assertThat(alphaDaily.get("from").asText()).isEqualTo(today.minusDays(6).toString());
        assertThat(alphaDaily.get("to").asText()).isEqualTo(today.toString());

        assertThat(total(awaitDaily(betaToken, "?days=1", d -> total(d) == 5))).isEqualTo(5);

        // admin: every client, and the ranking
        String adminToken = token(ADMIN_KEY);
        JsonNode all = get("/api/usage/daily?days=3", adminToken, 200);
        assertThat(countOf(all, "alpha-" + suffix)).isEqualTo(4);
        assertThat(countOf(all, betaId)).isEqualTo(5);
        assertThat(countOf(all, "admin")).isZero();
        assertThat(all.get("clients").get(0).get("days")).hasSize(3);
        JsonNode one = get("/api/usage/daily?client_id=" + betaId, adminToken, 200);
        assertThat(one.get("clients")).hasSize(1);
        assertThat(total(one)).isEqualTo(5);

        JsonNode top = get("/api/usage/top?limit=10", adminToken, 200);
        List<String> order = new ArrayList<>();
        top.get("top").forEach(t -> order.add(t.get("client_id").asText()));
        assertThat(order).containsSubsequence(betaId, "alpha-" + suffix);
        JsonNode betaEntry = entry(top.get("top"), betaId);
        assertThat(betaEntry.get("count").asLong()).isEqualTo(5);
        assertThat(betaEntry.get("name").asText()).isEqualTo("Beta " + suffix);
        for (int i = 1; i < top.get("top").size(); i++) {
            JsonNode prev = top.get("top").get(i - 1), cur = top.get("top").get(i);
            assertThat(prev.get("count").asLong()).isGreaterThanOrEqualTo(cur.get("count").asLong());
            if (prev.get("count").asLong() == cur.get("count").asLong()) {
                assertThat(prev.get("client_id").asText()).isLessThan(cur.get("client_id").asText());
            }
        }
        assertThat(get("/api/usage/top?limit=1", adminToken, 200).get("top")).hasSize(1);
    }

    @Test
    void everyBadInputGetsItsProblem() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        JsonNode client = register("Gamma", "gamma-" + suffix + "@example.com", "gamma-" + suffix);
        String key = client.get("api_key").asText();
        String token = token(key);

        assertProblem(api.post("/api/logs", "text/plain", "ip=1", Map.of("X-API-Key", key)), 415);
        assertProblem(api.post("/api/logs", "application/json", "{\"ip\":", Map.of("X-API-Key", key)), 400);
        Reply unknown = api.post("/api/logs", Map.of("ip", "1.2.3.4", "endpoint", "/x", "extra", 1), Map.of("X-API-Key", key));
        assertProblem(unknown, 400);
        assertThat(unknown.json().get("errors").get(0).get("field").asText()).isEqualTo("extra");
        Reply invalid = api.post("/api/logs", Map.of("hits", List.of(hit("300.1.1.1", "/ok"), hit("::1", "no-slash"))), Map.of("X-API-Key", key));
        assertProblem(invalid, 400);
        assertThat(invalid.json().get("errors")).hasSize(2);
        assertThat(invalid.json().get("errors").get(0).get("field").asText()).isEqualTo("hits[0].ip");
        assertThat(invalid.json().get("errors").get(1).get("field").asText()).isEqualTo("hits[1].endpoint");
        assertProblem(api.post("/api/logs", "application/json", "{\"ip\":\"1.1.1.1\",\"endpoint\":\"/" + "x".repeat(300_000) + "\"}",
                Map.of("X-API-Key", key)), 413);

        Reply anonymous = api.post("/api/logs", Map.of("ip", "1.2.3.4", "endpoint", "/x"), Map.of());
        assertProblem(anonymous, 401);
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        assertProblem(api.post("/api/logs", Map.of("ip", "1.2.3.4", "endpoint", "/x"), Map.of("X-API-Key", "ut_not-a-real-key-000000000000")), 401);
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", "ut_not-a-real-key-000000000000")), 401);
        assertProblem(api.get("/api/usage/daily", Map.of()), 401);
        assertProblem(api.get("/api/usage/daily", bearer(token + "x")), 401);

        assertProblem(api.get("/api/usage/top", bearer(token)), 403);
        assertProblem(api.get("/api/usage/daily?client_id=admin", bearer(token)), 403);
        assertProblem(api.get("/api/usage/daily?days=0", bearer(token)), 400);
        assertProblem(api.get("/api/usage/daily?days=32", bearer(token)), 400);
        assertProblem(api.get("/api/usage/daily?client_id=nobody-" + suffix, bearer(token(ADMIN_KEY))), 404);
        assertProblem(api.get("/api/usage/top?limit=11", bearer(token(ADMIN_KEY))), 400);
        assertProblem(api.get("/api/usage/top?hours=25", bearer(token(ADMIN_KEY))), 400);

        assertProblem(api.post("/api/register", Map.of("name", "Other", "email", "GAMMA-" + suffix + "@example.com"), Map.of()), 409);
        assertProblem(api.post("/api/register", Map.of("name", "Other", "email", "other-" + suffix + "@example.com",
                "client_id", "gamma-" + suffix), Map.of()), 409);
        Reply bad = api.post("/api/register", Map.of("name", "", "email", "nope", "client_id", "A!"), Map.of());
        assertProblem(bad, 400);
        assertThat(bad.json().get("errors")).hasSize(3);
        assertProblem(api.get("/api/nothing-here", Map.of()), 404);
        // no secrets in any problem: the key never comes back
        assertThat(unknown.body()).doesNotContain(key);
    }

    @Test
    void jwksPublishesTheKeyThatSignsTokens() {
        JsonNode jwks = api.get("/.well-known/jwks.json", Map.of()).json();
        JsonNode key = jwks.get("keys").get(0);
        assertThat(key.get("kty").asText()).isEqualTo("EC");
        assertThat(key.get("crv").asText()).isEqualTo("P-256");
        assertThat(key.has("d")).as("no private part").isFalse();
        String header = new String(java.util.Base64.getUrlDecoder().decode(token(ADMIN_KEY).split("\\.")[0]));
        assertThat(header).contains("\"kid\":\"" + key.get("kid").asText() + "\"").contains("ES256");
    }

    @Test
    void servesTheContractAndSwaggerUiFromTheJar() {
        JsonNode document = api.get("/openapi.json", Map.of()).json();
        assertThat(document.get("openapi").asText()).startsWith("3.1");
        assertThat(document.get("paths").has("/api/logs")).isTrue();
        Reply page = api.get("/docs", Map.of());
        assertThat(page.header("Content-Type")).startsWith("text/html");
        assertThat(page.body()).contains("/docs/swagger-ui-bundle.js").contains("/docs/usage-tracker-init.js");

        HttpJson assets = HttpJson.uncheckedFor(runtime.baseUrl());
        assertThat(assets.get("/docs/usage-tracker-init.js", Map.of()).body()).contains("url: \"/openapi.json\"");
        Reply bundle = assets.get("/docs/swagger-ui-bundle.js", Map.of());
        assertThat(bundle.status()).isEqualTo(200);
        assertThat(bundle.header("Content-Type")).startsWith("text/javascript");
        assertThat(bundle.body().length()).as("the real bundle, not a stub").isGreaterThan(500_000);
        assertThat(assets.get("/docs/swagger-ui.css", Map.of()).status()).isEqualTo(200);
        assertThat(assets.get("/docs/..%2Fpom.xml", Map.of()).status()).isEqualTo(404);
        assertThat(assets.get("/docs/missing.js", Map.of()).status()).isEqualTo(404);
    }

    @Test
    void metricsSummariseRequestsFunctionsAndTheConsumer() {
        HttpJson local = HttpJson.uncheckedFor(runtime.baseUrl());
        long before = runtime.metrics().requests("POST /api/token", "4xx");
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", "ut_not-a-real-key-000000000000")), 401);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String key = register("Metered", "metered-" + suffix + "@example.com", null).get("api_key").asText();
        assertAccepted(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/m"), Map.of("X-API-Key", key)), 1);

        JsonNode metrics = local.get("/metrics", Map.of()).json();
        JsonNode token = metrics.get("requests").get("by_route").get("POST /api/token");
        assertThat(token.get("4xx").asLong()).isGreaterThanOrEqualTo(before + 1);
        assertThat(metrics.get("requests").get("by_status_class").get("2xx").asLong()).isPositive();
        assertThat(metrics.get("requests").get("total").asLong()).isPositive();
        JsonNode ingest = metrics.get("functions").get("IngestFunction");
        assertThat(ingest.get("containers").asInt()).isPositive();
        assertThat(ingest.get("invocations").asLong()).isPositive();
        assertThat(ingest.get("init_ms")).isNotEmpty();
        JsonNode esm = metrics.get("event_source_mappings").get(0);
        assertThat(esm.get("function").asText()).isEqualTo("HitConsumerFunction");
        assertThat(esm.has("invocations") && esm.has("deleted_messages")).isTrue();
    }

    @Test
    void correlationIdFollowsAHitIntoTheConsumerAndNoSecretIsLogged() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String email = "delta-" + suffix + "@example.com";
        JsonNode client = register("Delta", email, "delta-" + suffix);
        String key = client.get("api_key").asText();
        String token = token(key);
        Reply accepted = api.post("/api/logs", Map.of("hits", List.of(hit("203.0.113.9", "/traced"), hit("203.0.113.9", "/traced/2"))),
                bearer(token));
        assertAccepted(accepted, 2);
        String requestId = accepted.header("apigw-requestid");
        assertThat(requestId).isNotBlank();

        JsonNode consumed = awaitLogLine(l -> l.path("correlation_ids").toString().contains("\"" + requestId + "\""));
        assertThat(consumed.get("function").asText()).isEqualTo("HitConsumerFunction");
        assertThat(consumed.get("hits_recorded").asLong()).isPositive();
        JsonNode request = awaitLogLine(l -> requestId.equals(l.path("correlation_id").asText())
                && "request completed".equals(l.path("message").asText()));
        assertThat(request.get("function").asText()).isEqualTo("IngestFunction");
        assertThat(request.get("status").asInt()).isEqualTo(202);
        assertThat(request.get("path").asText()).isEqualTo("/api/logs");

        JsonNode emf = lines(EMF).stream().filter(l -> requestId.equals(l.path("correlation_id").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no EMF record for request " + requestId));
        assertThat(emf.get("HitsAccepted").asLong()).isEqualTo(2);
        assertThat(emf.get("IngestFallbacks").asLong()).isZero();
        assertThat(emf.get("function").asText()).isEqualTo("IngestFunction");
        assertThat(lines(EMF)).anyMatch(l -> "HitConsumerFunction".equals(l.path("function").asText())
                && l.has("ConsumerBatchSize") && l.has("ConsumerLagMillis"));

        String logs = Files.readString(LOGS);
        assertThat(logs).doesNotContain(key).doesNotContain(email).doesNotContain(token)
                .doesNotContain(ADMIN_KEY).doesNotContain(token.split("\\.")[2]);
    }

    @Test
    void smokeScriptPassesAgainstTheRunningService() throws Exception {
        ProcessBuilder smoke = new ProcessBuilder("bash", "scripts/smoke", runtime.baseUrl())
                .directory(TestStack.PROJECT_ROOT.toFile()).redirectErrorStream(true);
        smoke.environment().put("ADMIN_API_KEY", ADMIN_KEY);
        Process p = smoke.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("POST   /api/register").contains("POST   /api/token").contains("POST   /api/logs")
                .contains("GET    /api/usage/daily").contains("GET    /api/usage/top").contains("3 of 3 hits counted").contains("smoke test passed")
                .contains("POST   /api/usage/stream/ticket").contains("event stream open");
    }

    // --- helpers -------------------------------------------------------------------------------

    static List<JsonNode> lines(Path file) throws java.io.IOException {
        if (!Files.exists(file)) return List.of();
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            try {
                out.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line));
            } catch (java.io.IOException e) {
                throw new AssertionError("a log line that is not JSON: " + line, e);
            }
        }
        return out;
    }

    static JsonNode awaitLogLine(Predicate<JsonNode> match) throws java.io.IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> found = lines(LOGS).stream().filter(match).findFirst();
            if (found.isPresent()) return found.get();
            ManagedProcess.sleep(200);
        }
        throw new AssertionError("no such log line in " + LOGS);
    }

    static JsonNode register(String name, String email, String clientId) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("name", name, "email", email));
        if (clientId != null) body.put("client_id", clientId);
        Reply r = api.post("/api/register", body, Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        JsonNode json = r.json();
        assertThat(json.get("api_key").asText()).startsWith("ut_");
        assertThat(json.get("email").asText()).isEqualTo(email);
        assertThat(json.get("created_at").asText()).endsWith("Z");
        return json;
    }

    static String token(String apiKey) {
        return token(api, apiKey);
    }

    static String token(HttpJson api, String apiKey) {
        Reply r = api.post("/api/token", "application/json", "", Map.of("X-API-Key", apiKey));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("token_type").asText()).isEqualTo("Bearer");
        assertThat(r.json().get("expires_in").asLong()).isBetween(60L, 900L);
        return r.json().get("access_token").asText();
    }

    static Map<String, String> hit(String ip, String endpoint) {
        return Map.of("ip", ip, "endpoint", endpoint);
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }

    static void assertAccepted(Reply r, int n) {
        assertThat(r.status()).as(r.body()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(n);
    }

    static void assertProblem(Reply r, int status) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.hasNonNull("type") && p.hasNonNull("title") && p.hasNonNull("detail") && p.hasNonNull("instance")).isTrue();
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    static JsonNode get(String path, String token, int status) {
        Reply r = api.get(path, bearer(token));
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return r.json();
    }

    /** Polls until the consumer has caught up, then checks the number stays put (no late double count). */
    static JsonNode awaitDaily(String token, String query, Predicate<JsonNode> done) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = get("/api/usage/daily" + query, token, 200);
            if (done.test(last)) {
                ManagedProcess.sleep(1_000);
                JsonNode again = get("/api/usage/daily" + query, token, 200);
                assertThat(total(again)).isEqualTo(total(last));
                return again;
            }
            ManagedProcess.sleep(200);
        }
        throw new AssertionError("usage never reached the expected counts: " + last);
    }

    static long total(JsonNode daily) {
        long sum = 0;
        for (JsonNode c : daily.get("clients")) sum += c.get("total").asLong();
        return sum;
    }

    static long countOf(JsonNode daily, String clientId) {
        for (JsonNode c : daily.get("clients")) if (c.get("client_id").asText().equals(clientId)) return c.get("total").asLong();
        throw new AssertionError(clientId + " missing from " + daily);
    }

    static JsonNode entry(JsonNode top, String clientId) {
        for (JsonNode t : top) if (t.get("client_id").asText().equals(clientId)) return t;
        throw new AssertionError(clientId + " missing from " + top);
    }
}
