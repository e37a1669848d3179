package dev.usagetracker.local;

import static dev.usagetracker.local.LocalRuntimeE2EIT.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.crypto.EnvelopeCipher;
import dev.usagetracker.local.HttpJson.Reply;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The attacks a reviewer of a SaaS API tries, against the real stack (OWASP API Top 10 2023). */
@ExtendWith(TestStack.Extension.class)
class SecurityIT {
    static final String ADMIN_KEY = "sec-admin-key-0123456789";
    static LocalRuntime runtime;
    static HttpJson api;
    static TestStack stack;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        // AUTH_CACHE_SECONDS=0: revocations are checked at once here; deployed, a warm container may
        // honour a revoked key for up to the cache TTL (60 s, docs/security.md).
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                // many registrations from one address are not what this test is about (RateLimitHttpIT is)
                Optional.of(s.emulators()), Map.of("AUTH_CACHE_SECONDS", "0", "RateLimitRegister", "1000/1m",
                        "RateLimitRegisterEmail", "1000/1m"), Optional.of(ADMIN_KEY),
                Optional.of(Duration.ofMillis(200)), 2, 4, false, "sec-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void twentyParallelRegistrationsOfOneEmailYieldExactlyOneClient() throws Exception {
        String email = "race-" + UUID.randomUUID() + "@example.com";
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int n = i;
                results.add(pool.submit(() -> api.post("/api/register",
                        Map.of("name", "Racer " + n, "email", n % 2 == 0 ? email : email.toUpperCase()), Map.of()).status()));
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> f : results) statuses.add(f.get());
            assertThat(statuses).filteredOn(st -> st == 201).hasSize(1);
            assertThat(statuses).filteredOn(st -> st == 409).hasSize(19);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void clientCannotReadAnotherClientsUsageByAnyParameter() {
        JsonNode a = register("bola-a"), b = register("bola-b");
        String tokenA = token(a.get("api_key").asText());
        String bId = b.get("client_id").asText();
        assertThat(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/b-secret"),
                Map.of("X-API-Key", b.get("api_key").asText())).status()).isEqualTo(202);

        for (String query : List.of("?client_id=" + bId, "?client_id=" + bId + "&days=31", "?client_id=admin",
                "?client_id=" + bId + "&client_id=" + a.get("client_id").asText(), "?client_id=*", "?client_id=%00")) {
            Reply r = api.get("/api/usage/daily" + query, bearer(tokenA));
            assertThat(r.status()).as(query).isIn(403, 404, 400);
            assertThat(r.body()).as(query).doesNotContain(bId);
        }
        assertProblem(api.get("/api/usage/top", bearer(tokenA)), 403);
        JsonNode own = api.get("/api/usage/daily", bearer(tokenA)).json();
        assertThat(own.get("clients")).hasSize(1);
        assertThat(own.get("clients").get(0).get("client_id").asText()).isEqualTo(a.get("client_id").asText());
        // a token is bound to its client: tampering with the subject breaks the signature
        String[] parts = tokenA.split("\\.");
        String forged = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                        .replace(a.get("client_id").asText(), bId).getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertProblem(api.get("/api/usage/daily", bearer(forged)), 401);
        String none = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"none\",\"typ\":\"at+jwt\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + ".";
        assertProblem(api.get("/api/usage/daily", bearer(none)), 401);
    }

    @Test
    void rotatedKeyWorksDuringTheGracePeriodAndNotAfter() {
        JsonNode client = register("rotor");
        String first = client.get("api_key").asText();

        Reply rotated = api.post("/api/keys/rotate", Map.of("grace_seconds", 3600), Map.of("X-API-Key", first));
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
        String second = rotated.json().get("api_key").asText();
        assertThat(second).startsWith("ut_").isNotEqualTo(first);
        assertThat(rotated.json().get("previous_key_expires_at").asText()).endsWith("Z");
        assertThat(api.post("/api/token", "application/json", "", Map.of("X-API-Key", first)).status()).isEqualTo(200);
        assertThat(api.post("/api/token", "application/json", "", Map.of("X-API-Key", second)).status()).isEqualTo(200);

        // rotating again with no grace: the first key is gone for good, the second too
        Reply again = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", second));
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        String third = again.json().get("api_key").asText();
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", first)), 401);
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", second)), 401);
        assertThat(api.post("/api/token", "application/json", "", Map.of("X-API-Key", third)).status()).isEqualTo(200);
        assertProblem(api.post("/api/keys/rotate", Map.of("grace_seconds", 999_999_999), Map.of("X-API-Key", third)), 400);
    }

    @Test
    void allowlistRefusesCallsFromOtherAddressesAndCannotLockTheCallerOut() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Reply fenced = api.post("/api/register", Map.of("name", "Fenced", "email", "fenced-" + suffix + "@example.com",
                "allowed_ips", List.of("10.0.0.0/8", "2001:db8::/32")), Map.of());
        assertThat(fenced.status()).isEqualTo(201);
        String fencedKey = fenced.json().get("api_key").asText();
        // we call from 127.0.0.1; X-Forwarded-For is ignored
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", fencedKey, "X-Forwarded-For", "10.1.2.3")), 403);
        assertProblem(api.post("/api/logs", Map.of("ip", "10.0.0.1", "endpoint", "/x"), Map.of("X-API-Key", fencedKey)), 403);

        JsonNode open = register("opener");
        String key = open.get("api_key").asText();
        assertProblem(api.send(patch("/api/clients/me", "{\"allowed_ips\":[\"10.0.0.0/8\"]}", key)), 400);
        Reply narrowed = api.send(patch("/api/clients/me", "{\"allowed_ips\":[\"127.0.0.1\", \"10.0.0.0/8\"]}", key));
        assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
        assertThat(narrowed.json().get("allowed_ips").toString()).contains("127.0.0.1/32", "10.0.0.0/8");
        assertThat(api.post("/api/token", "application/json", "", Map.of("X-API-Key", key)).status()).isEqualTo(200);
        assertProblem(api.send(patch("/api/clients/me", "{\"allowed_ips\":[\"not-an-ip\"]}", key)), 400);
    }

    @Test
    void adminRoutesAreRefusedOutsideTheAdminAllowlist() throws Exception {
        try (LocalRuntime fenced = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("ADMIN_ALLOWED_CIDRS", "10.0.0.0/8", "AUTH_CACHE_SECONDS", "0", "RateLimitRegister", "1000/1m"),
                Optional.of("sec-fenced-admin-key-01234"), Optional.of(Duration.ofMillis(200)), 2, 2, false, "secf-"))) {
            HttpJson fencedApi = new HttpJson(fenced.baseUrl());
            assertProblem(fencedApi.post("/api/token", "application/json", "", Map.of("X-API-Key", "sec-fenced-admin-key-01234")), 403);
        }
        // the same admin key from an allowed address works
        assertThat(api.post("/api/token", "application/json", "", Map.of("X-API-Key", ADMIN_KEY)).status()).isEqualTo(200);
    }

    @Test
    void hostileInputNeverCausesA5xxOrLeaksInternals() {
        String key = register("hostile").get("api_key").asText();
        String token = token(key);
        List<String> bodies = List.of("", "null", "[]", "\"text\"", "{", "{}}", "{\"ip\":\"1.1.1.1\",\"ip\":\"2.2.2.2\",\"endpoint\":\"/\"}",
                "{\"ip\":{\"$gt\":\"\"},\"endpoint\":\"/\"}", "{\"ip\":\"1.1.1.1' OR '1'='1\",\"endpoint\":\"/\"}",
                "{\"ip\":\"1.1.1.1\",\"endpoint\":\"/'; DROP TABLE clients;--\"}", "{\"ip\":null,\"endpoint\":null}",
                "{\"ip\":[\"1.1.1.1\"],\"endpoint\":\"/\"}", "{\"hits\":{}}", "{\"hits\":[null]}", "{\"hits\":[[]]}",
                "{\"name\":\"\\u0000\",\"email\":\"a@b.c\"}", "{\"name\":\"" + "Ω".repeat(5_000) + "\",\"email\":\"x@y.z\"}",
                "{\"name\":\"n\",\"email\":\"" + "a".repeat(70_000) + "@x.io\"}", "{\"client_id\":\"../../etc/passwd\",\"name\":\"n\",\"email\":\"p@q.r\"}",
                "{\"api_key\":\"" + "k".repeat(10_000) + "\"}", "{\"grace_seconds\":\"NaN\"}", "{\"grace_seconds\":1e309}",
                "{\"allowed_ips\":[\"::1%eth0\",\"1.2.3.4/99\"]}", "[".repeat(5_000) + "]".repeat(5_000),
                "{\"a\":" + "{\"a\":".repeat(3_000) + "1" + "}".repeat(3_001));
        Map<String, Map<String, String>> routes = new HashMap<>();
        routes.put("/api/register", Map.of());
        routes.put("/api/token", Map.of("X-API-Key", key));
        routes.put("/api/logs", Map.of("X-API-Key", key));
        routes.put("/api/keys/rotate", Map.of("Authorization", "Bearer " + token, "X-API-Key", "ut_" + "x".repeat(40)));
        for (var route : routes.entrySet()) {
            for (String body : bodies) {
                Reply r = api.post(route.getKey(), "application/json", body, route.getValue());
                assertThat(r.status()).as("%s %s", route.getKey(), abbreviate(body)).isBetween(200, 499);
                if (r.status() >= 400) assertProblem(r, r.status());
            }
        }
        for (String query : List.of("?days=-1", "?days=1e3", "?days=%27%20OR%201=1", "?limit=99999999999999999999",
                "?hours=", "?client_id=" + "x".repeat(5_000), "?days=7&days=8")) {
            for (String path : List.of("/api/usage/daily", "/api/usage/top")) {
                Reply r = api.get(path + query, bearer(token(ADMIN_KEY)));
                assertThat(r.status()).as(path + query).isBetween(200, 499);
            }
        }
        for (String auth : List.of("Bearer", "Bearer ", "Basic YTpi", "Bearer a.b", "Bearer " + "a".repeat(20_000), "Bearer \u00e9")) {
            Reply r = api.get("/api/usage/daily", Map.of("Authorization", auth));
            assertThat(r.status()).as(abbreviate(auth)).isEqualTo(401);
        }
    }

    @Test
    void secretsNeverReachTheLogs() throws Exception {
        PrintStream originalErr = System.err, originalOut = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new Tee(originalErr, captured), true));
        System.setOut(new PrintStream(new Tee(originalOut, captured), true));
        List<String> secrets = new ArrayList<>();
        try {
            String email = "secret-" + UUID.randomUUID() + "@example.com";
            secrets.add(email);
            Reply reg = api.post("/api/register", Map.of("name", "Quiet", "email", email), Map.of());
            String key = reg.json().get("api_key").asText();
            secrets.add(key);
            String token = token(key);
            secrets.add(token);
            api.post("/api/logs", Map.of("api_key", key, "hits", List.of(Map.of("ip", "192.0.2.9", "endpoint", "/q"))), Map.of());
            api.post("/api/logs", Map.of("ip", "bad", "endpoint", "/q", "api_key", key), Map.of());
            api.post("/api/logs", "application/json", "{\"api_key\":\"" + key + "\",", Map.of());
            api.get("/api/usage/daily", bearer(token));
            api.get("/api/usage/daily", bearer(token + "tampered"));
            api.post("/api/register", Map.of("name", "Dup", "email", email), Map.of());
            Reply rotated = api.post("/api/keys/rotate", Map.of(), Map.of("X-API-Key", key));
            secrets.add(rotated.json().get("api_key").asText());
            ManagedProcess.sleep(1_500); // let the consumer run and log
        } finally {
            System.setErr(originalErr);
            System.setOut(originalOut);
        }
        String logs = captured.toString(StandardCharsets.UTF_8);
        for (String secret : secrets) {
            assertThat(logs).as("logs").doesNotContain(secret);
        }
        assertThat(logs).doesNotContain(ADMIN_KEY);
    }

    @Test
    void ciphertextFromAnOldKmsKeyStaysReadableAfterSwitchingKeys() {
        String oldKey = stack.kms().createKey(b -> b.description("old data key")).keyMetadata().keyId();
        String newKey = stack.kms().createKey(b -> b.description("new data key")).keyMetadata().keyId();
        EnvelopeCipher before = new EnvelopeCipher(stack.kms(), oldKey, Clock.systemUTC());
        byte[] sealed = before.encrypt("ops@acme.example".getBytes(StandardCharsets.UTF_8), "acme");

        EnvelopeCipher after = new EnvelopeCipher(stack.kms(), newKey, Clock.systemUTC()); // DATA_KEY_ID changed
        assertThat(new String(after.decrypt(sealed, "acme"), StandardCharsets.UTF_8)).isEqualTo("ops@acme.example");
        byte[] resealed = after.encrypt("ops@acme.example".getBytes(StandardCharsets.UTF_8), "acme");
        assertThat(new String(before.decrypt(resealed, "acme"), StandardCharsets.UTF_8)).isEqualTo("ops@acme.example");
        // ciphertext is bound to its row: moving it to another client fails
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> after.decrypt(sealed, "mallory"))
                .isInstanceOf(IllegalStateException.class);
    }

    // --- helpers -------------------------------------------------------------------------------

    static JsonNode register(String prefix) {
        return api.register(prefix);
    }

    static String token(String key) {
        return api.token(key);
    }

    static Map<String, String> bearer(String token) {
        return HttpJson.bearer(token);
    }

    static java.net.http.HttpRequest patch(String path, String body, String key) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + path))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").header("X-API-Key", key).build();
    }

    static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…(" + s.length() + ")" : s;
    }

    private static final class Tee extends OutputStream {
        private final OutputStream a, b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
