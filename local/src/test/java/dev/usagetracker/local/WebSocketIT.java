package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.realtime.LiveConnection;
import dev.usagetracker.realtime.StreamCredential;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageUpdate;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import dev.usagetracker.store.DynamoConnectionStore;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The WebSocket path with a real client (java.net.http.WebSocket): the local runtime runs the template's
 * StreamFunction for $connect/$disconnect (token check, connections table), delivers usage frames from
 * its Redis subscription, and serves @connections, through which the StreamFanoutFunction jar — the
 * AWS path — pushes changes read from real Usage table items.
 */
@ExtendWith(TestStack.Extension.class)
class WebSocketIT {
    static final String ADMIN_KEY = "ws-admin-key-0123456789";
    static final String PREFIX = "ws-";
    static final String STAGE = "ws-it";
    static final Duration WAIT = Duration.ofSeconds(15);
    static final ObjectMapper JSON = new ObjectMapper();
    static LocalRuntime runtime;
    static HttpJson api;
    static Redis redis;
    static UsageEvents events;
    static DynamoConnectionStore connections;
    static TestStack stack;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", STAGE,
                        // revocations (an allowlist change) reach a check at once through the Redis
                        // credential versions, with the deployed cache TTL (DESIGN.md §2a)
                        "RateLimitRead", "1000/1m",
                        "RateLimitRegister", "off"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 20, 2, false, PREFIX));
        api = new HttpJson(runtime.baseUrl());
        redis = new Redis(stack.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "ut:" + STAGE + ":")));
        events = new UsageEvents(redis);
        connections = new DynamoConnectionStore(stack.dynamo(), PREFIX + "ConnectionsTable");
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (redis != null) redis.close();
    }

    @Test
    void aConnectionWithAValidTokenIsKeptUntilItCloses() {
        LiveClient c = register("conn");
        String before = rowsOf(c.id()).toString();
        try (WsClient ws = WsClient.connect(url(c.token()))) {
            List<String> rows = rowsOf(c.id());
            assertThat(rows).as("rows before: " + before).hasSize(1);
            LiveConnection row = connections.find(rows.getFirst()).orElseThrow();
            assertThat(row.clientId()).isEqualTo(c.id());
            assertThat(row.role()).isEqualTo(Role.CLIENT);
            assertThat(row.audience()).isEqualTo(c.id());
            // the row lives as long as the token (TTL = exp) and keeps what the fan-out re-checks
            assertThat(row.expiresAt()).isEqualTo(exp(c.token()));
            assertThat(row.sourceIp()).isEqualTo("127.0.0.1");
            assertThat(row.principal().has(Principal.SCOPE_USAGE_READ)).isTrue();
            // the API takes no messages: API Gateway's answer to one
            ws.send("{\"action\":\"hello\"}");
            assertThat(ws.next(WAIT)).contains("\"message\": \"Forbidden\"");
        }
        Await.until(WAIT, "$disconnect to remove the row", () -> rowsOf(c.id()).isEmpty());
        Await.until(WAIT, "the runtime to forget the socket", () -> runtime.webSocketConnections() == 0);
    }

    @Test
    void handshakesWithoutAValidTokenOrFromOutsideTheAllowlistAreRefused() throws Exception {
        assertThat(WsClient.refusal(runtime.webSocketUrl())).isEqualTo(401);
        assertThat(WsClient.refusal(runtime.webSocketUrl() + "?token=not.a.token")).isEqualTo(401);
        LiveClient fenced = register("fenced");
        HttpJson elsewhere = new HttpJson(runtime.baseUrl(), java.net.InetAddress.getByName("127.0.0.2"));
        Reply narrowed = elsewhere.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/me"))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"allowed_ips\":[\"127.0.0.2\"]}"))
                .header("Content-Type", "application/json").header("X-API-Key", fenced.key()).build());
        assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
        // the authenticator caches a client for up to AUTH_CACHE_SECONDS; a fresh token is checked anew
        Await.until(WAIT, "the narrowed allowlist to apply", () -> WsClient.refusal(url(fenced.token())) == 403);
        assertThat(rowsOf(fenced.id())).isEmpty();
    }

    @Test
    void framesReachExactlyTheConnectionsAllowedToSeeThem() throws Exception {
        LiveClient a = register("alpha");
        LiveClient b = register("beta");
        try (WsClient forA = WsClient.connect(url(a.token())); WsClient forB = WsClient.connect(url(b.token()));
             WsClient forAdmin = WsClient.connect(url(LocalRuntimeE2EIT.token(api, ADMIN_KEY)))) {
            assertThat(connections.find(rowsOf(LiveConnection.EVERYONE).getFirst())).isPresent();
            UsageUpdate first = publish(a.id(), 3);
            UsageUpdate second = publish(b.id(), 4);
            UsageUpdate third = publish(a.id(), 5);

            JsonNode frame = JSON.readTree(forA.next(WAIT));
            assertThat(frame).isEqualTo(JSON.readTree("{\"event\":\"usage\",\"id\":\"" + first.eventId()
                    + "\",\"data\":{\"client_id\":\"" + a.id() + "\",\"date\":\"2026-11-25\",\"count\":3}}"));
            assertThat(JSON.readTree(forA.next(WAIT)).get("id").asText()).isEqualTo(third.eventId());
            assertThat(JSON.readTree(forB.next(WAIT)).get("id").asText()).isEqualTo(second.eventId());
            List<String> adminSaw = List.of(id(forAdmin.next(WAIT, m -> isFor(m, a, b))), id(forAdmin.next(WAIT, m -> isFor(m, a, b))),
                    id(forAdmin.next(WAIT, m -> isFor(m, a, b))));
            assertThat(adminSaw).containsExactly(first.eventId(), second.eventId(), third.eventId());
            // nothing of beta's reached alpha: its next frame is the next of its own
            UsageUpdate fourth = publish(a.id(), 6);
            assertThat(JSON.readTree(forA.next(WAIT)).get("id").asText()).isEqualTo(fourth.eventId());
        }
    }

    @Test
    void theFanoutFunctionPushesRealDailyChangesThroughConnectionsAndDropsGoneOnes() throws Exception {
        LiveClient a = register("fanout");
        LiveClient other = register("other");
        String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
        // admin connections would get these changes too: let another test's close first
        // the allowlist change comes first: it deletes every connection row of the client (issue 19)
        Reply narrowed = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/me"))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"allowed_ips\":[\"127.0.0.1/32\"]}"))
                .header("Content-Type", "application/json").header("X-API-Key", a.key()).build());
        assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
        Await.until(WAIT, "no admin connection open", () -> rowsOf(LiveConnection.EVERYONE).isEmpty());
        try (WsClient ws = WsClient.connect(url(a.token()))) {
            String live = rowsOf(a.id()).getFirst();
            // a connection whose $disconnect never came: it was open, it closed, its row is still there;
            // API Gateway answers 410 for it
            LiveConnection gone;
            try (WsClient second = WsClient.connect(url(a.token()))) {
                gone = connections.find(rowsOf(a.id()).stream().filter(id -> !id.equals(live)).findFirst().orElseThrow()).orElseThrow();
            }
            Await.until(WAIT, "the second socket's $disconnect", () -> rowsOf(a.id()).equals(List.of(live)));
            connections.put(gone);
            // one past its token's exp, one from an address the client's allowlist no longer admits:
            // the fan-out pushes nothing to them and deletes their rows
            Principal principal = new Principal(a.id(), Role.CLIENT, Principal.scopesFor(Role.CLIENT));
            String expired = "expired" + UUID.randomUUID().toString().substring(0, 8);
            connections.put(LiveConnection.of(expired, new StreamCredential(principal, Instant.now().minusSeconds(1)),
                    "127.0.0.1", Instant.now().minusSeconds(60)));
            String moved = "moved" + UUID.randomUUID().toString().substring(0, 8);
            connections.put(LiveConnection.of(moved, new StreamCredential(principal, Instant.now().plusSeconds(600)),
                    "10.1.2.3", Instant.now().minusSeconds(60)));

            // real aggregates: two hits through the API, the consumer, the Usage table
            for (int i = 0; i < 2; i++) {
                Reply r = api.post("/api/logs", Map.of("ip", "203.0.113.5", "endpoint", "/fanout/" + i), Map.of("X-API-Key", a.key()));
                assertThat(r.status()).isEqualTo(202);
            }
            Reply r = api.post("/api/logs", Map.of("ip", "203.0.113.6", "endpoint", "/other"), Map.of("X-API-Key", other.key()));
            assertThat(r.status()).isEqualTo(202);
            Map<String, AttributeValue> daily = awaitItem(a.id() + "#" + today, 2);
            Map<String, AttributeValue> hourly = awaitItem(a.id() + "#" + today + "T" + String.format("%02d",
                    java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).getHour()), 0);
            Map<String, AttributeValue> otherDaily = awaitItem(other.id() + "#" + today, 1);
            Map<String, AttributeValue> before = new HashMap<>(daily);
            before.put("count", AttributeValue.fromN("1"));

            DynamodbEvent event = new DynamodbEvent();
            event.setRecords(List.of(
                    record("MODIFY", "4100000000000000000001", daily, before),
                    record("MODIFY", "4100000000000000000002", hourly, null), // hourly: not for live clients
                    record("INSERT", "4100000000000000000003", otherDaily, null), // another client's
                    record("MODIFY", "4100000000000000000004", daily, daily))); // no change in count
            Object result = runtime.pools().get("StreamFanoutFunction").invoke(event);
            assertThat(result).isEqualTo(Map.of("delivered", 1, "gone", 1, "failed", 0, "revoked", 2, "unchecked", 0));

            String frame = ws.next(WAIT, m -> m.contains("\"id\":\"4100000000000000000001\""));
            assertThat(JSON.readTree(frame)).isEqualTo(JSON.readTree("{\"event\":\"usage\",\"id\":\"4100000000000000000001\","
                    + "\"data\":{\"client_id\":\"" + a.id() + "\",\"date\":\"" + today + "\",\"count\":2}}"));
            assertThat(connections.find(gone.connectionId())).isEmpty();
            assertThat(connections.find(expired)).isEmpty();
            assertThat(connections.find(moved)).isEmpty();
            assertThat(rowsOf(a.id())).containsExactly(live);
            // locally the same hits also arrive the emulation's way: the consumer's announcement on Redis
            String announced = ws.next(WAIT, m -> m.matches(".*\"id\":\"\\d+-\\d+\".*") && m.contains("\"count\":2"));
            assertThat(JSON.readTree(announced).get("data")).isEqualTo(JSON.readTree(frame).get("data"));
        }
    }

    @Test
    void theFanoutFunctionPushesAThresholdClaimToTheClientsOwnConnectionsOnly() throws Exception {
        LiveClient a = register("wsalert");
        LiveClient other = register("wsalertother");
        java.time.YearMonth month = java.time.YearMonth.now(java.time.ZoneOffset.UTC);
        Await.until(WAIT, "no admin connection open", () -> rowsOf(LiveConnection.EVERYONE).isEmpty());
        try (WsClient ws = WsClient.connect(url(a.token())); WsClient bystander = WsClient.connect(url(other.token()))) {
            Await.until(WAIT, "both rows", () -> rowsOf(a.id()).size() == 1 && rowsOf(other.id()).size() == 1);
            // the claim item exactly as the consumer's detector writes it: two claims, 50 then 100 percent
            var claims = new dev.usagetracker.store.DynamoThresholdClaims(stack.dynamo(), PREFIX + "UsageTable");
            String pk = dev.usagetracker.store.DynamoThresholdClaims.pk(a.id(), month);
            assertThat(claims.claim(a.id(), month, 50, 51, 100, Instant.now())).isTrue();
            Map<String, AttributeValue> first = awaitItem(pk, 0);
            assertThat(claims.claim(a.id(), month, 100, 100, 100, Instant.now())).isTrue();
            assertThat(claims.claim(a.id(), month, 100, 100, 100, Instant.now())).isFalse();
            Map<String, AttributeValue> second = stack.dynamo().getItem(g -> g.tableName(PREFIX + "UsageTable")
                    .consistentRead(true).key(Map.of("pk", AttributeValue.fromS(pk)))).item();
            assertThat(second).containsKey("alert_month");

            DynamodbEvent event = new DynamodbEvent();
            event.setRecords(List.of(
                    record("INSERT", "4200000000000000000001", first, null),
                    record("MODIFY", "4200000000000000000002", second, first),
                    record("MODIFY", "4200000000000000000003", second, second))); // nothing newly reached
            Object result = runtime.pools().get("StreamFanoutFunction").invoke(event);
            assertThat(result).isEqualTo(Map.of("delivered", 2, "gone", 0, "failed", 0, "revoked", 0, "unchecked", 0));

            for (String[] expected : List.of(new String[] {"4200000000000000000001", "50", "51"},
                    new String[] {"4200000000000000000002", "100", "100"})) {
                String frame = ws.next(WAIT, m -> m.contains("\"id\":\"" + expected[0] + "\""));
                assertThat(JSON.readTree(frame)).isEqualTo(JSON.readTree("{\"event\":\"threshold\",\"id\":\"" + expected[0]
                        + "\",\"data\":{\"client_id\":\"" + a.id() + "\",\"period\":\"" + month + "\",\"threshold\":"
                        + expected[1] + ",\"monthly_quota\":100,\"used\":" + expected[2] + "}}"));
            }
            // the other client's socket got nothing of it (a frame of its own comes through: it is open)
            UsageUpdate own = publish(other.id(), 1);
            assertThat(bystander.next(WAIT, m -> m.contains(own.eventId()))).contains(other.id());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> bystander.next(Duration.ofSeconds(1), m -> m.contains("threshold")))
                    .isInstanceOf(AssertionError.class);
        }
    }

    @Test
    void anAllowlistChangeClosesTheExcludedConnectionWithinFiveSecondsWhileAnotherClientsKeepsReceiving() throws Exception {
        LiveClient fenced = register("wsfenced");
        LiveClient bystander = register("wsbystander");
        try (WsClient excluded = WsClient.connect(url(fenced.token())); WsClient other = WsClient.connect(url(bystander.token()))) {
            UsageUpdate before = publish(fenced.id(), 1);
            assertThat(excluded.next(WAIT, m -> m.contains(before.eventId()))).isNotNull();
            // from 127.0.0.2 the client admits only 127.0.0.2; its socket connected from 127.0.0.1
            Reply narrowed = narrow(fenced, "127.0.0.2");
            Instant changed = Instant.now();
            WsClient.Closing closing = excluded.awaitClose(Duration.ofSeconds(15));
            Duration after = Duration.between(changed, closing.at());
            System.out.printf("allowlist change -> WebSocket closed after %d ms (%d %s)%n", after.toMillis(), closing.code(), closing.reason());
            assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
            assertThat(closing.code()).isEqualTo(1008);
            assertThat(closing.reason()).isEqualTo("access revoked");
            assertThat(after).isLessThanOrEqualTo(Duration.ofSeconds(5));
            // the other client's socket is untouched and still receives
            UsageUpdate still = publish(bystander.id(), 1);
            assertThat(other.next(WAIT, m -> m.contains(still.eventId()))).contains(bystander.id());
            assertThat(other.isClosed()).isFalse();
        }
        Await.until(WAIT, "the closed socket's row to go", () -> rowsOf(fenced.id()).isEmpty());
        assertThat(WsClient.refusal(url(fenced.token()))).isEqualTo(403);
    }

    @Test
    void theConnectionsCallbackTakesOnlyTheRuntimesSecretAndAnswersUnknownIdsNotFound() throws Exception {
        LiveClient c = register("callback");
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String base = runtime.webSocketCallbackUrl() + "/@connections/";
        String secret = runtime.webSocketCallbackSecret();
        String id;
        try (WsClient ws = WsClient.connect(url(c.token()))) {
            id = rowsOf(c.id()).getFirst();
            String forged = "{\"event\":\"usage\",\"id\":\"1-0\",\"data\":{\"client_id\":\"" + c.id() + "\",\"date\":\"2026-11-25\",\"count\":999999}}";
            assertThat(callback(http, "POST", base + id, forged, null).statusCode()).isEqualTo(403);
            assertThat(callback(http, "POST", base + id, forged, "wrong-" + secret).statusCode()).isEqualTo(403);
            assertThat(callback(http, "POST", base + id, forged, secret.substring(1)).statusCode()).isEqualTo(403);
            assertThat(callback(http, "GET", base + id, null, null).statusCode()).isEqualTo(403);
            assertThat(callback(http, "DELETE", base + id, null, "").statusCode()).isEqualTo(403);
            // with the secret (what the runtime gives the functions it runs) the frame goes through, and it
            // is the first the socket gets: none of the refused ones reached it
            var accepted = callback(http, "POST", base + id, "{\"hello\":1}", secret);
            assertThat(accepted.statusCode()).isEqualTo(200);
            assertThat(ws.next(WAIT)).isEqualTo("{\"hello\":1}");
            assertThat(callback(http, "GET", base + id, null, secret).statusCode()).isEqualTo(200);
            // an id never issued: 404, like every other unknown resource
            var unknown = callback(http, "GET", base + "never-issued-" + UUID.randomUUID(), null, secret);
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(unknown.headers().firstValue("x-amzn-ErrorType")).contains("NotFoundException");
            assertThat(callback(http, "POST", base + "never-issued", "{}", secret).statusCode()).isEqualTo(404);
        }
        Await.until(WAIT, "the socket to be forgotten", () -> rowsOf(c.id()).isEmpty());
        // a connection that closed is gone (410), as API Gateway answers for it
        var gone = callback(http, "POST", base + id, "{}", secret);
        assertThat(gone.statusCode()).isEqualTo(410);
        assertThat(gone.headers().firstValue("x-amzn-ErrorType")).contains("GoneException");
    }

    @Test
    void aRotationWithGraceZeroAndADisableCloseTheAffectedConnectionsWithinFiveSeconds() throws Exception {
        LiveClient rotated = register("wsrotated");
        LiveClient disabled = register("wsdisabled");
        LiveClient bystander = register("wsbystander");
        String admin = LocalRuntimeE2EIT.token(api, ADMIN_KEY);
        try (WsClient r = WsClient.connect(url(rotated.token())); WsClient d = WsClient.connect(url(disabled.token()));
             WsClient other = WsClient.connect(url(bystander.token()))) {
            Reply rotation = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", rotated.key()));
            assertThat(rotation.status()).as(rotation.body()).isEqualTo(200);
            Instant rotatedAt = Instant.now();
            Reply disabling = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/" + disabled.id()))
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"disabled\":true}"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + admin).build());
            assertThat(disabling.status()).as(disabling.body()).isEqualTo(200);
            Instant disabledAt = Instant.now();
            WsClient.Closing rClosed = r.awaitClose(Duration.ofSeconds(15));
            WsClient.Closing dClosed = d.awaitClose(Duration.ofSeconds(15));
            assertThat(Duration.between(rotatedAt, rClosed.at())).isLessThanOrEqualTo(Duration.ofSeconds(5));
            assertThat(Duration.between(disabledAt, dClosed.at())).isLessThanOrEqualTo(Duration.ofSeconds(5));
            assertThat(rClosed.code()).isEqualTo(1008);
            assertThat(dClosed.code()).isEqualTo(1008);
            UsageUpdate still = publish(bystander.id(), 1);
            assertThat(other.next(WAIT, m -> m.contains(still.eventId()))).contains(bystander.id());
        }
    }

    private static java.net.http.HttpResponse<String> callback(java.net.http.HttpClient http, String method, String url, String body,
                                                                String secret) throws Exception {
        var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).method(method,
                body == null ? java.net.http.HttpRequest.BodyPublishers.noBody() : java.net.http.HttpRequest.BodyPublishers.ofString(body));
        if (secret != null) b.header(dev.usagetracker.realtime.StreamSettings.CALLBACK_SECRET_HEADER, secret);
        return http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    /** From 127.0.0.2 the client restricts its allowlist to {@code cidr}. */
    static Reply narrow(LiveClient c, String cidr) throws Exception {
        HttpJson elsewhere = new HttpJson(runtime.baseUrl(), java.net.InetAddress.getByName("127.0.0.2"));
        return elsewhere.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/me"))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"allowed_ips\":[\"" + cidr + "\"]}"))
                .header("Content-Type", "application/json").header("X-API-Key", c.key()).build());
    }

    @Test
    void aCredentialChangeRemovesTheClientsConnectionRowsAndLeavesOtherClientsRows() throws Exception {
        LiveClient rotated = register("wsrowsrot");
        LiveClient fenced = register("wsrowsip");
        LiveClient bystander = register("wsrowsby");
        try (WsClient r = WsClient.connect(url(rotated.token())); WsClient f = WsClient.connect(url(fenced.token()));
             WsClient other = WsClient.connect(url(bystander.token()))) {
            Await.until(WAIT, "three rows", () -> rowsOf(rotated.id()).size() == 1 && rowsOf(fenced.id()).size() == 1
                    && rowsOf(bystander.id()).size() == 1);
            // a row whose socket the emulation does not hold (as on AWS, where only the fan-out and the
            // credential change see rows): it must go with the change, not wait for a re-check
            Principal principal = new Principal(rotated.id(), Role.CLIENT, Principal.scopesFor(Role.CLIENT));
            String detached = "detached" + UUID.randomUUID().toString().substring(0, 8);
            connections.put(LiveConnection.of(detached, new StreamCredential(principal, Instant.now().plusSeconds(600)),
                    "127.0.0.1", Instant.now()));
            Principal fencedPrincipal = new Principal(fenced.id(), Role.CLIENT, Principal.scopesFor(Role.CLIENT));
            String detachedFenced = "detached" + UUID.randomUUID().toString().substring(0, 8);
            connections.put(LiveConnection.of(detachedFenced, new StreamCredential(fencedPrincipal, Instant.now().plusSeconds(600)),
                    "127.0.0.1", Instant.now()));
            String otherRow = rowsOf(bystander.id()).getFirst();

            Reply rotation = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", rotated.key()));
            assertThat(rotation.status()).as(rotation.body()).isEqualTo(200);
            // the rows are gone when the rotation has answered: the change deleted them itself
            assertThat(rowsOf(rotated.id())).isEmpty();
            assertThat(connections.find(detached)).isEmpty();

            Reply narrowed = narrow(fenced, "127.0.0.2");
            assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
            assertThat(rowsOf(fenced.id())).isEmpty();
            assertThat(connections.find(detachedFenced)).isEmpty();

            // the other client's row stays, and its socket keeps receiving
            assertThat(rowsOf(bystander.id())).containsExactly(otherRow);
            UsageUpdate still = publish(bystander.id(), 1);
            assertThat(other.next(WAIT, m -> m.contains(still.eventId()))).contains(bystander.id());
        }
    }

    @Test
    void twentyClientsComingAndGoingLeaveNothingOpen() {
        LiveClient c = register("churn");
        long started = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            try (WsClient ws = WsClient.connect(url(c.token()))) {
                assertThat(ws.isClosed()).isFalse();
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        Await.until(WAIT, "every socket to be forgotten", () -> runtime.webSocketConnections() == 0
                && runtime.usageHub().orElseThrow().subscribers() == 0 && rowsOf(c.id()).isEmpty());
        System.out.printf("20 WebSocket connect/disconnect cycles ($connect + $disconnect each): %d ms%n", ms);
    }

    private static DynamodbEvent.DynamodbStreamRecord record(String name, String sequence, Map<String, AttributeValue> now,
                                                            Map<String, AttributeValue> before) {
        StreamRecord stream = new StreamRecord();
        stream.setSequenceNumber(sequence);
        stream.setStreamViewType(com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamViewType.NEW_AND_OLD_IMAGES);
        stream.setKeys(Map.of("pk", image(now).get("pk")));
        stream.setNewImage(image(now));
        if (before != null) stream.setOldImage(image(before));
        DynamodbEvent.DynamodbStreamRecord r = new DynamodbEvent.DynamodbStreamRecord();
        r.setEventName(name);
        r.setEventSource("aws:dynamodb");
        r.setDynamodb(stream);
        return r;
    }

    /** An item as the stream event carries it (the Lambda events model, not the SDK's). */
    private static Map<String, com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue> image(
            Map<String, AttributeValue> item) {
        Map<String, com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue> out = new HashMap<>();
        item.forEach((k, v) -> {
            var a = new com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue();
            if (v.s() != null) a.setS(v.s());
            if (v.n() != null) a.setN(v.n());
            out.put(k, a);
        });
        return out;
    }

    private static Map<String, AttributeValue> awaitItem(String pk, long count) {
        Map<String, Map<String, AttributeValue>> found = new HashMap<>();
        Await.until(WAIT, "the aggregate " + pk, () -> {
            Map<String, AttributeValue> item = stack.dynamo().getItem(g -> g.tableName(PREFIX + "UsageTable")
                    .consistentRead(true).key(Map.of("pk", AttributeValue.fromS(pk)))).item();
            if (item == null || item.isEmpty() || (count > 0 && Long.parseLong(item.get("count").n()) != count)) return false;
            found.put(pk, item);
            return true;
        });
        return found.get(pk);
    }

    private static boolean isFor(String frame, LiveClient a, LiveClient b) {
        return frame.contains("\"" + a.id() + "\"") || frame.contains("\"" + b.id() + "\"");
    }

    private static String id(String frame) {
        try {
            return JSON.readTree(frame).get("id").asText();
        } catch (Exception e) {
            throw new AssertionError(frame, e);
        }
    }

    private static List<String> rowsOf(String audience) {
        return connections.audience(audience).stream().map(LiveConnection::connectionId).toList();
    }

    /** The exp claim of an access token (read, not verified: the test's own token). */
    static Instant exp(String token) {
        try {
            JsonNode claims = JSON.readTree(java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1]));
            return Instant.ofEpochSecond(claims.get("exp").asLong());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static String url(String token) {
        return runtime.webSocketUrl() + "?token=" + token;
    }

    static UsageUpdate publish(String clientId, long count) {
        return events.publish(List.of(new UsageUpdate("", clientId, "2026-11-25", "2026-11-25T10", count, count, 1))).getFirst();
    }

    static LiveClient register(String prefix) {
        return LiveClient.register(api, prefix);
    }
}
