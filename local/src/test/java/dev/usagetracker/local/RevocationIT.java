package dev.usagetracker.local;

import static dev.usagetracker.local.LocalRuntimeE2EIT.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 18 finding 1, as the attacker played it: a thief holding the same API key as the owner, and
 * every sequence an attacker would try around a revocation. The per-container caches keep their
 * deployed TTL (AUTH_CACHE_SECONDS 60 s) here: every refusal below comes from the Redis credential
 * version, checked on every authentication, and from the client row it makes each container re-read.
 * Each route is its own function with its own warm container (as Lambda runs them), so a change made
 * through one function is seen by another function's warm container on its next request.
 */
@ExtendWith(TestStack.Extension.class)
class RevocationIT {
    static final String ADMIN_KEY = "rev-admin-key-0123456789";
    static LocalRuntime runtime;
    static HttpJson api;
    /** The same service, called from another source address (127.0.0.2). */
    static HttpJson elsewhere;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of("RateLimitRegister", "1000/1m"), Optional.of(ADMIN_KEY),
                Optional.of(Duration.ofMillis(200)), 2, 4, false, "rev-"));
        api = new HttpJson(runtime.baseUrl());
        elsewhere = new HttpJson(runtime.baseUrl(), InetAddress.getByName("127.0.0.2"));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void theStolenKeyTakeoverOfIssue18IsClosed() {
        JsonNode client = register("victim");
        String k0 = client.get("api_key").asText();
        // owner and thief both hold K0; the thief mints T0 and warms every function's container with it
        String t0 = token(api, k0);
        for (int i = 0; i < 3; i++) {
            assertThat(api.post("/api/logs", hit(), Map.of("X-API-Key", k0)).status()).isEqualTo(202);
            assertThat(api.post("/api/logs", hit(), bearer(t0)).status()).isEqualTo(202);
            assertThat(api.get("/api/usage/daily", bearer(t0)).status()).isEqualTo(200);
            token(api, k0);
        }
        assertThat(api.post("/api/usage/stream/ticket", "application/json", "", bearer(t0)).status()).isEqualTo(200);
        // the thief's first move, while T0 is perfectly valid: a token cannot mint a permanent key
        Reply byToken = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), bearer(t0));
        assertProblem(byToken, 403);
        assertThat(byToken.body()).contains("API key itself");

        // the owner revokes K0 with no grace
        Reply rotated = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", k0));
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
        String k1 = rotated.json().get("api_key").asText();

        // at once, in every warm container: K0 is dead, and so is everything it minted
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", k0)), 401);
        assertProblem(api.post("/api/logs", hit(), Map.of("X-API-Key", k0)), 401);
        assertProblem(api.post("/api/logs", hit(), bearer(t0)), 401);
        assertProblem(api.get("/api/usage/daily", bearer(t0)), 401);
        assertProblem(api.post("/api/usage/stream/ticket", "application/json", "", bearer(t0)), 401);
        assertProblem(api.post("/api/keys/rotate", Map.of("grace_seconds", 0), bearer(t0)), 403);
        assertProblem(api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", k0)), 401);
        // the owner's new key works everywhere
        String t1 = token(api, k1);
        assertThat(api.get("/api/usage/daily", bearer(t1)).status()).isEqualTo(200);
        assertThat(api.post("/api/logs", hit(), Map.of("X-API-Key", k1)).status()).isEqualTo(202);
    }

    @Test
    void aKeyRotatedWithGraceStopsWithItsTokensAtTheRecordedEnd() {
        JsonNode client = register("graceful");
        String k0 = client.get("api_key").asText();
        String t0 = token(api, k0);
        assertThat(api.get("/api/usage/daily", bearer(t0)).status()).isEqualTo(200);

        Reply rotated = api.post("/api/keys/rotate", Map.of("grace_seconds", 6), Map.of("X-API-Key", k0));
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
        Instant end = Instant.parse(rotated.json().get("previous_key_expires_at").asText());
        String k1 = rotated.json().get("api_key").asText();
        // during the grace period the old key and its tokens work (the owner is still deploying K1)
        // (on a loaded machine an answer may arrive after the end: then 401 is the right answer too)
        int byOldKey = api.post("/api/token", "application/json", "", Map.of("X-API-Key", k0)).status();
        assertThat(byOldKey == 200 || Instant.now().isAfter(end)).as("old key during the grace: " + byOldKey).isTrue();
        int byOldToken = api.get("/api/usage/daily", bearer(t0)).status();
        assertThat(byOldToken == 200 || Instant.now().isAfter(end)).as("old token during the grace: " + byOldToken).isTrue();

        Await.until(Duration.ofSeconds(10), "the grace period's end", () -> Instant.now().isAfter(end));
        // no further change is announced: every container compares the recorded end itself
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", k0)), 401);
        assertProblem(api.post("/api/logs", hit(), Map.of("X-API-Key", k0)), 401);
        assertProblem(api.get("/api/usage/daily", bearer(t0)), 401);
        assertProblem(api.post("/api/usage/stream/ticket", "application/json", "", bearer(t0)), 401);
        assertThat(api.get("/api/usage/daily", bearer(token(api, k1))).status()).isEqualTo(200);
    }

    @Test
    void aKeyRotatedAwayServesUsageCallsDuringItsGraceButNeverControlsTheAccount() throws Exception {
        JsonNode client = register("leaked");
        String k0 = client.get("api_key").asText();
        // the owner rotates because K0 leaked, with a grace period for its deployments
        Reply rotated = api.post("/api/keys/rotate", Map.of("grace_seconds", 3600), Map.of("X-API-Key", k0));
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
        String k1 = rotated.json().get("api_key").asText();

        // usage calls with K0 and its tokens go on during the grace period
        String t0 = token(api, k0);
        assertThat(api.post("/api/logs", hit(), Map.of("X-API-Key", k0)).status()).isEqualTo(202);
        assertThat(api.get("/api/usage/daily", bearer(t0)).status()).isEqualTo(200);

        // the thief holding K0 tries every account control, with the key and with a token it minted
        Reply reRotate = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", k0));
        assertProblem(reRotate, 403);
        assertThat(reRotate.body()).contains("current API key");
        assertProblem(api.delete("/api/clients/me", Map.of("X-API-Key", k0)), 403);
        assertProblem(api.put("/api/clients/me/webhook", Map.of("url", "https://hooks.example.com/steal",
                "events", List.of("usage.threshold")), Map.of("X-API-Key", k0)), 403);
        assertProblem(api.delete("/api/clients/me/webhook", bearer(t0)), 403);
        assertProblem(patch("/api/clients/me", "{\"allowed_ips\":[\"127.0.0.1/32\"]}", Map.of("X-API-Key", k0)), 403);
        assertProblem(patch("/api/clients/me", "{\"allowed_ips\":[\"127.0.0.1/32\"]}", bearer(t0)), 403);

        // nothing changed: the owner's K1 works, the client is not erasing, no allowlist was set
        String t1 = token(api, k1);
        JsonNode me = api.get("/api/clients/me", bearer(t1)).json();
        assertThat(me.get("allowed_ips")).isEmpty();
        assertThat(elsewhere.post("/api/logs", hit(), Map.of("X-API-Key", k1)).status()).isEqualTo(202);

        // four rotations at once with K1: one wins; none replaces the key another one just issued
        List<Reply> answers = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        List<Thread> racers = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            racers.add(Thread.ofPlatform().start(() -> answers.add(
                    api.post("/api/keys/rotate", Map.of("grace_seconds", 3600), Map.of("X-API-Key", k1)))));
        }
        for (Thread t : racers) t.join(30_000);
        List<Reply> won = answers.stream().filter(r -> r.status() == 200).toList();
        assertThat(won).as(answers.stream().map(Reply::body).toList().toString()).hasSize(1);
        // the losers hear 409 (another rotation finished first) or, once K1 is the previous key, 403
        assertThat(answers.stream().filter(r -> r.status() != 200).map(Reply::status)).allMatch(st -> st == 409 || st == 403);
        String k2 = won.getFirst().json().get("api_key").asText();
        assertThat(api.get("/api/usage/daily", bearer(token(api, k2))).status()).isEqualTo(200);
        // K1 is now the previous key: usage yes, control no; K0's grace ended with the second rotation
        assertThat(api.post("/api/logs", hit(), Map.of("X-API-Key", k1)).status()).isEqualTo(202);
        assertProblem(api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", k1)), 403);
        assertProblem(api.post("/api/logs", hit(), Map.of("X-API-Key", k0)), 401);
    }

    @Test
    void anAllowlistChangeBindsTokensAndKeysFromTheExcludedAddressAtOnce() {
        JsonNode client = register("fenced");
        String key = client.get("api_key").asText();
        String remoteToken = token(elsewhere, key);
        assertThat(elsewhere.get("/api/usage/daily", bearer(remoteToken)).status()).isEqualTo(200);
        assertThat(elsewhere.post("/api/logs", hit(), Map.of("X-API-Key", key)).status()).isEqualTo(202);

        Reply narrowed = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/me"))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"allowed_ips\":[\"127.0.0.1/32\"]}"))
                .header("Content-Type", "application/json").header("X-API-Key", key).build());
        assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);

        assertProblem(elsewhere.get("/api/usage/daily", bearer(remoteToken)), 403);
        assertProblem(elsewhere.post("/api/logs", hit(), bearer(remoteToken)), 403);
        assertProblem(elsewhere.post("/api/logs", hit(), Map.of("X-API-Key", key)), 403);
        assertProblem(elsewhere.post("/api/token", "application/json", "", Map.of("X-API-Key", key)), 403);
        // from the allowed address the same token still works: the allowlist moved, not the credential
        assertThat(api.get("/api/usage/daily", bearer(remoteToken)).status()).isEqualTo(200);
    }

    @Test
    void disablingRefusesEveryCredentialAtOnceAndTokensFromBeforeStayDeadAfterReEnabling() {
        JsonNode client = register("suspect");
        String id = client.get("client_id").asText();
        String key = client.get("api_key").asText();
        String t0 = token(api, key);
        assertThat(api.get("/api/usage/daily", bearer(t0)).status()).isEqualTo(200);
        assertThat(api.post("/api/logs", hit(), Map.of("X-API-Key", key)).status()).isEqualTo(202);
        String admin = token(api, ADMIN_KEY);

        Reply disabled = patch("/api/clients/" + id, "{\"disabled\":true}", bearer(admin));
        assertThat(disabled.status()).as(disabled.body()).isEqualTo(200);
        assertThat(disabled.json().get("disabled").asBoolean()).isTrue();
        long disabledAt = Instant.now().getEpochSecond();

        for (Reply refused : List.of(api.post("/api/token", "application/json", "", Map.of("X-API-Key", key)),
                api.post("/api/logs", hit(), Map.of("X-API-Key", key)),
                api.post("/api/logs", hit(), bearer(t0)),
                api.get("/api/usage/daily", bearer(t0)),
                api.get("/api/clients/me", bearer(t0)),
                api.post("/api/usage/stream/ticket", "application/json", "", bearer(t0)),
                api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", key)))) {
            assertProblem(refused, 403);
            assertThat(refused.json().get("type").asText()).endsWith("/client-disabled");
        }

        Reply enabled = patch("/api/clients/" + id, "{\"disabled\":false}", bearer(admin));
        assertThat(enabled.status()).as(enabled.body()).isEqualTo(200);
        assertThat(enabled.json().get("disabled").asBoolean()).isFalse();
        // the token from before the disable stays void; the key works again and mints new ones
        assertProblem(api.get("/api/usage/daily", bearer(t0)), 401);
        assertProblem(api.post("/api/logs", hit(), bearer(t0)), 401);
        // tokens minted in the very second of the disable are void too: wait for the next one
        Await.until(Duration.ofSeconds(3), "the second after the disable", () -> Instant.now().getEpochSecond() > disabledAt + 1);
        String t1 = token(api, key);
        assertThat(api.get("/api/usage/daily", bearer(t1)).status()).isEqualTo(200);
        assertThat(api.post("/api/logs", hit(), Map.of("X-API-Key", key)).status()).isEqualTo(202);
    }

    @Test
    void clientRecordsAreReadByTheirOwnerAndTheAdminAndChangedOnlyByTheAdmin() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Reply registered = api.post("/api/register", Map.of("name", "Reader", "email", "Reader-" + suffix + "@example.com",
                "client_id", "reader-" + suffix), Map.of());
        assertThat(registered.status()).isEqualTo(201);
        String id = "reader-" + suffix;
        String own = token(api, registered.json().get("api_key").asText());
        String admin = token(api, ADMIN_KEY);

        JsonNode me = api.get("/api/clients/me", bearer(own)).json();
        assertThat(me.get("client_id").asText()).isEqualTo(id);
        assertThat(me.get("email").asText()).isEqualTo("Reader-" + suffix + "@example.com");
        assertThat(me.get("role").asText()).isEqualTo("client");
        assertThat(me.get("plan").asText()).isEqualTo("default");
        assertThat(me.get("disabled").asBoolean()).isFalse();

        Reply byAdmin = api.get("/api/clients/" + id, bearer(admin));
        assertThat(byAdmin.status()).isEqualTo(200);
        assertThat(byAdmin.json()).isEqualTo(me);
        assertProblem(api.get("/api/clients/admin", bearer(own)), 403);
        assertProblem(api.get("/api/clients/no-such-client", bearer(admin)), 404);
        assertProblem(api.get("/api/clients/" + id, Map.of()), 401);

        assertProblem(patch("/api/clients/" + id, "{\"plan\":\"default\"}", bearer(own)), 403);
        assertProblem(patch("/api/clients/" + id, "{\"plan\":\"no-such-plan\"}", bearer(admin)), 400);
        assertProblem(patch("/api/clients/" + id, "{\"allowed_ips\":[\"not-an-ip\"]}", bearer(admin)), 400);
        assertProblem(patch("/api/clients/" + id, "{}", bearer(admin)), 400);
        assertProblem(patch("/api/clients/" + id, "{\"colour\":\"red\"}", bearer(admin)), 400);
        assertProblem(patch("/api/clients/admin", "{\"disabled\":true}", bearer(admin)), 409);
        assertProblem(patch("/api/clients/no-such-client", "{\"disabled\":true}", bearer(admin)), 404);

        Reply fenced = patch("/api/clients/" + id, "{\"allowed_ips\":[\"10.0.0.0/8\"],\"plan\":\"default\"}", bearer(admin));
        assertThat(fenced.status()).as(fenced.body()).isEqualTo(200);
        assertThat(fenced.json().get("allowed_ips")).hasSize(1);
        // an allowlist set by the admin binds the client's token on its next request
        assertProblem(api.get("/api/clients/me", bearer(own)), 403);
    }

    // --- helpers -------------------------------------------------------------------------------

    static JsonNode register(String prefix) {
        return api.register(prefix);
    }

    static String token(HttpJson via, String key) {
        return via.token(key);
    }

    static Map<String, String> bearer(String token) {
        return HttpJson.bearer(token);
    }

    static Reply patch(String path, String body, Map<String, String> headers) {
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + path))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        headers.forEach(request::header);
        return api.send(request.build());
    }

    static Map<String, Object> hit() {
        return Map.of("ip", "192.0.2.1", "endpoint", "/revocation");
    }
}
