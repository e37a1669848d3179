package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
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
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(), Optional.of(ADMIN_KEY),
                Optional.of(Duration.ofMillis(200)), 2, 4, false, "e2e-"));
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

    // --- helpers -------------------------------------------------------------------------------

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
