package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageUpdate;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import dev.usagetracker.webhooks.WebhookMessage;
import io.lettuce.core.Range;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The second black-box attack (issue 22), each finding played from the attacker's first request to its
 * last, against the local runtime configured as {@code ./scripts/dev} runs it (loopback/private {@code http}
 * receivers allowed): webhook SSRF into the runtime's own SQS, moto, Redis, gateway and WebSocket ports;
 * link-local, tunnel and relay receivers; a stolen token locking the owner out or silencing its alerts; a
 * re-registered client id replaying the erased client's events; a plan quota that overflowed; an unbounded
 * number of WebSockets per client.
 */
@ExtendWith(TestStack.Extension.class)
class SecondAttackIT {
    static final String STAGE = "attack-it";
    static final String ADMIN_KEY = "second-attack-admin-key-0123456789";
    static final Duration WAIT = Duration.ofSeconds(30);
    static LocalRuntime runtime;
    static HttpJson api;
    static TestStack stack;
    static Redis redis;
    static WebhookReceiver receiver;

    @BeforeAll
    static void start(TestStack testStack) throws Exception {
        stack = testStack;
        receiver = new WebhookReceiver();
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", STAGE,
                        "WEBHOOK_ALLOW_PRIVATE", "true", // as ./scripts/dev sets it
                        "WEBHOOK_RETRY_SCHEDULE", "1s,1s",
                        "AUTH_CACHE_SECONDS", "0",
                        "RateLimitIngest", "100000/1m",
                        "RateLimitRead", "1000/1m",
                        "RateLimitRegister", "off",
                        // the erasure's sweep after 1 s, not the default 60: what is tested here is what the
                        // next holder of the id sees, not the consumer's guard (ErasureIT runs that)
                        "ERASURE_DELAY_SECONDS", "1"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 30, 4, false, "atk-"));
        api = new HttpJson(runtime.baseUrl());
        redis = new Redis(stack.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "ut:" + STAGE + ":")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (runtime != null) runtime.close();
        if (redis != null) redis.close();
        if (receiver != null) receiver.close();
    }

    // ---------------------------------------------------------------- finding 1: webhook SSRF

    @Test
    void webhooksAimedAtTheRuntimesOwnPortsAreRefusedAtPutAndAtDelivery() throws Exception {
        LiveClient victim = LiveClient.register(api, "victim");
        LiveClient attacker = LiveClient.register(api, "attacker");
        assertThat(putWebhook(victim, receiver.url("/ok")).status()).isEqualTo(200);
        String forgedHits = sendMessage(runtime.resource("HitsQueue"), new String(Json.write(new HitBatch(1,
                UUID.randomUUID().toString().replace("-", "").substring(0, 16), 0, 0, victim.id(), Instant.now(),
                java.util.stream.IntStream.range(0, 15).mapToObj(i -> new HitBatch.PackedHit(System.currentTimeMillis(),
                        "192.0.2.1", "/forged")).toList())), StandardCharsets.UTF_8));
        String forgedAlert = sendMessage(runtime.resource("WebhookQueue"), new String(Json.write(WebhookMessage.event("msg_forged",
                "usage.threshold", victim.id(), "{\"type\":\"usage.threshold\",\"data\":{\"client_id\":\"" + victim.id()
                        + "\",\"threshold\":100}}", null).attempt(victim.id(), 1, 0)), StandardCharsets.UTF_8));
        String purge = runtime.resource("HitsQueue") + "?Action=PurgeQueue";
        String moto = stack.emulators().awsEndpoint() + "/?Action=ListKeys";
        String redisPort = "http://127.0.0.1:" + URI.create(stack.emulators().redisUrl()).getPort() + "/";
        String gateway = runtime.baseUrl() + "/api/register";
        String webSocket = runtime.webSocketCallbackUrl() + "/@connections/x";
        List<String> ownPorts = List.of(forgedHits, forgedAlert, purge, moto, redisPort, gateway, webSocket,
                forgedHits.replace("127.0.0.1", "localhost"), forgedHits.replace("127.0.0.1", "[::ffff:127.0.0.1]"));
        Set<String> refusals = new HashSet<>();
        for (String url : ownPorts) {
            Reply r = putWebhook(attacker, url);
            assertThat(r.status()).as(url + " → " + r.body()).isEqualTo(400);
            JsonNode error = r.json().get("errors").get(0);
            assertThat(error.get("field").asText()).isEqualTo("url");
            refusals.add(error.get("message").asText());
        }
        assertThat(refusals).as("one answer for every port: no scan oracle").hasSize(1);

        // A URL stored before the change (the attack ran against an older build): refused at delivery too.
        assertThat(putWebhook(attacker, receiver.url("/ok")).status()).isEqualTo(200);
        Set<String> statuses = new HashSet<>();
        for (String url : List.of(forgedHits, forgedAlert, redisPort)) {
            storeWebhookUrl(attacker.id(), url);
            Reply test = api.post("/api/clients/me/webhook/test", "application/json", "", attacker.bearer());
            assertThat(test.status()).as(test.body()).isEqualTo(202);
            // every attempt re-reads the stored URL, so whatever is recorded now was an attempt at a refused one
            Await.until(WAIT, "the delivery attempt to " + url, () -> lastDelivery(attacker).isPresent());
            statuses.add(lastDelivery(attacker).get());
            clearLastDelivery(attacker.id());
        }
        assertThat(statuses).as("last_delivery.status tells no refused port from another").containsExactly("refused_address");

        // The victim is untouched: a real hit of its own is the only one counted, and its receiver heard nothing.
        assertThat(api.post("/api/logs", Map.of("ip", "192.0.2.9", "endpoint", "/real"), Map.of("X-API-Key", victim.key())).status())
                .isEqualTo(202);
        Await.until(WAIT, "the victim's own hit counted", () -> dailyTotal(victim) >= 1);
        assertThat(dailyTotal(victim)).as("no forged hit reached the hits queue").isEqualTo(1);
        assertThat(receiver.deliveries(d -> d.body().contains(victim.id()))).as("no forged alert reached the victim").isEmpty();
    }

    @Test
    void linkLocalTunnelAndRelayReceiversAreRefusedEvenWherePrivateOnesAreAllowed() {
        LiveClient c = LiveClient.register(api, "tunnel");
        for (String url : List.of("http://169.254.170.2/v2/credentials", "http://169.254.169.254/latest/meta-data/",
                "http://[fe80::1]/", "http://[fd00:ec2::254]/", "https://[2002:7f00:1::1]/", "https://[2002:a9fe:a9fe::1]/",
                "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "https://192.88.99.1/", "http://0.0.0.0:8080/")) {
            Reply r = putWebhook(c, url);
            assertThat(r.status()).as(url + " → " + r.body()).isEqualTo(400);
            assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo("url");
        }
        assertThat(api.get("/api/clients/me/webhook", c.bearer()).status()).as("nothing was saved").isEqualTo(404);
        // what the relaxed policy is for: a receiver on this machine
        assertThat(putWebhook(c, receiver.url("/ok")).status()).isEqualTo(200);
    }

    // ---------------------------------------------------------------- finding 2: a stolen token

    @Test
    void aStolenTokenCanNeitherLockTheOwnerOutNorSilenceItsAlerts() {
        LiveClient owner = LiveClient.register(api, "owner");
        assertThat(putWebhook(owner, receiver.url("/ok")).status()).isEqualTo(200);
        Map<String, String> thief = owner.bearer(); // a 15-minute access token, leaked

        Reply fence = patch("/api/clients/me", "{\"allowed_ips\":[\"203.0.113.7/32\"]}", thief);
        assertThat(fence.status()).as(fence.body()).isEqualTo(403);
        assertThat(fence.header("Content-Type")).startsWith("application/problem+json");
        assertThat(fence.body()).contains("API key itself");
        Reply silence = api.delete("/api/clients/me/webhook", thief);
        assertThat(silence.status()).as(silence.body()).isEqualTo(403);
        assertThat(silence.body()).contains("API key itself");

        // the owner is still in, with its key, its tokens and its webhook
        JsonNode me = api.get("/api/clients/me", owner.bearer()).json();
        assertThat(me.get("allowed_ips")).isEmpty();
        assertThat(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/a"), Map.of("X-API-Key", owner.key())).status())
                .isEqualTo(202);
        assertThat(api.get("/api/clients/me/webhook", Map.of("X-API-Key", owner.key())).status()).isEqualTo(200);
        // and the owner's key itself may do both
        assertThat(patch("/api/clients/me", "{\"allowed_ips\":[\"127.0.0.0/8\"]}", Map.of("X-API-Key", owner.key())).status())
                .isEqualTo(200);
        assertThat(api.delete("/api/clients/me/webhook", Map.of("X-API-Key", owner.key())).status()).isEqualTo(204);
    }

    // ---------------------------------------------------------------- finding 3: an erased client's events

    @Test
    void whoeverRegistersAnErasedIdReplaysNothingOfTheErasedClient() throws Exception {
        String id = "reused-" + UUID.randomUUID().toString().substring(0, 8);
        String key = register(id);
        for (int i = 0; i < 3; i++) {
            assertThat(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/secret/" + i), Map.of("X-API-Key", key))
                    .status()).isEqualTo(202);
        }
        Await.until(WAIT, "the erased client's announcements in the events stream", () -> streamEntriesOf(id) > 0);

        assertThat(api.delete("/api/clients/me", Map.of("X-API-Key", key)).status()).isEqualTo(202);
        Await.until(Duration.ofSeconds(90), "the erasure of " + id, () -> stack.dynamo().getItem(r -> r
                .tableName(runtime.resource("ClientsTable")).consistentRead(true)
                .key(Map.of("client_id", AttributeValue.fromS(id)))).item().isEmpty());
        Await.until(WAIT, "its stream entries deleted", () -> streamEntriesOf(id) == 0);
        // An announcement that raced the erasure (the erasure ran first, the announcement after it):
        // the replay floor keeps it from the next holder of the id.
        String day = LocalDate.now(ZoneOffset.UTC).toString();
        String hour = Instant.now().truncatedTo(ChronoUnit.HOURS).toString();
        new UsageEvents(redis).publish(List.of(new UsageUpdate("", id, day, hour, 999, 999, 1)));
        Thread.sleep(5); // the next registration's millisecond comes after the straggler's stream id

        String newKey = register(id); // the freed id, another person
        String token = LocalRuntimeE2EIT.token(api, newKey);
        assertThat(api.post("/api/logs", Map.of("ip", "192.0.2.2", "endpoint", "/mine"), Map.of("X-API-Key", newKey)).status())
                .isEqualTo(202);
        // the straggler and the new client's own first announcement are both in the stream now
        Await.until(WAIT, "the new client's announcement", () -> streamEntriesOf(id) == 2);
        try (SseClient sse = SseClient.connect(SseClient.http(), runtime.baseUrl() + "/api/usage/stream",
                Map.of("Authorization", "Bearer " + token, "Last-Event-ID", "0-0"))) {
            assertThat(sse.status()).isEqualTo(200);
            // the replay from the start of the stream: the first event must be the new client's own hit
            SseClient.Event first = sse.nextEvent(WAIT);
            JsonNode data = Json.readTree(first.data().getBytes(StandardCharsets.UTF_8));
            assertThat(data.get("client_id").asText()).isEqualTo(id);
            assertThat(data.get("count").asLong()).as("nothing of the erased client: " + first).isEqualTo(1);
        }
    }

    // ---------------------------------------------------------------- finding 4: plan overflow

    @Test
    void aPlanQuotaThatWouldOverflowIsRefusedAndTheLargestAllowedOneComputesRight() {
        Map<String, String> admin = HttpJson.bearer(LocalRuntimeE2EIT.token(api, ADMIN_KEY));
        Reply overflow = api.put("/api/plans/overflow", Map.of("monthly_quota", Long.MAX_VALUE), admin);
        assertThat(overflow.status()).as(overflow.body()).isEqualTo(400);
        assertThat(overflow.json().get("errors").findValuesAsText("field")).containsExactly("monthly_quota");
        Reply beyond = api.put("/api/plans/overflow", Map.of("monthly_quota", 1_000_000_000_000_001L), admin);
        assertThat(beyond.status()).isEqualTo(400);
        assertThat(api.get("/api/plans", admin).body()).doesNotContain("\"overflow\"");

        Reply biggest = api.put("/api/plans/biggest", Map.of("monthly_quota", 1_000_000_000_000_000L,
                "alert_thresholds", List.of(1, 100, 1000)), admin);
        assertThat(biggest.status()).as(biggest.body()).isEqualTo(200);
        LiveClient c = LiveClient.register(api, "bigplan");
        assertThat(api.send(HttpRequest.newBuilder(URI.create(runtime.baseUrl() + "/api/clients/" + c.id()))
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"plan\":\"biggest\"}"))
                .header("Content-Type", "application/json").header("Authorization", admin.get("Authorization")).build()).status())
                .isEqualTo(200);
        for (int i = 0; i < 2; i++) {
            assertThat(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/a"), Map.of("X-API-Key", c.key())).status())
                    .isEqualTo(202);
            int expected = i + 1;
            Await.until(WAIT, "hit " + expected + " in the quota", () -> api.get("/api/usage/quota", c.bearer()).json()
                    .get("used").asLong() == expected);
        }
        JsonNode quota = api.get("/api/usage/quota", c.bearer()).json();
        assertThat(quota.get("monthly_quota").asLong()).isEqualTo(1_000_000_000_000_000L);
        assertThat(quota.get("remaining").asLong()).isEqualTo(999_999_999_999_998L);
        assertThat(quota.get("thresholds").findValues("reached_at")).as("no threshold fires on the first hits")
                .allMatch(JsonNode::isNull);
    }

    // ---------------------------------------------------------------- finding 5: WebSockets per client

    @Test
    void theEleventhWebSocketOfAClientIsRefusedAndThePortAnswersProblems() throws Exception {
        LiveClient c = LiveClient.register(api, "sockets");
        String url = runtime.webSocketUrl() + "?token=" + c.token();
        List<WsClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) open.add(WsClient.connect(url));
            assertThat(WsClient.refusal(url)).as("the 11th").isEqualTo(429);
            // another client is not affected
            LiveClient other = LiveClient.register(api, "neighbour");
            try (WsClient theirs = WsClient.connect(runtime.webSocketUrl() + "?token=" + other.token())) {
                assertThat(theirs).isNotNull();
            }
            // one closed frees a place
            open.removeFirst().close();
            Await.until(WAIT, "a place freed", () -> {
                try {
                    open.add(WsClient.connect(url));
                    return true;
                } catch (AssertionError refusedStill) {
                    return false;
                }
            });
            assertThat(open).hasSize(10);
        } finally {
            open.forEach(WsClient::close);
        }

        HttpClient http = HttpClient.newHttpClient();
        for (String path : List.of("/", "/@connections/whatever")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(runtime.webSocketCallbackUrl() + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isIn(403, 404);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            JsonNode problem = Json.readTree(r.body().getBytes(StandardCharsets.UTF_8));
            assertThat(problem.get("status").asInt()).isEqualTo(r.statusCode());
            assertThat(problem.has("type") && problem.has("title") && problem.has("detail")).as(r.body()).isTrue();
        }
    }

    // ---------------------------------------------------------------- helpers

    static Reply putWebhook(LiveClient c, String url) {
        return api.put("/api/clients/me/webhook", Map.of("url", url, "events", List.of("usage.threshold")), Map.of("X-API-Key", c.key()));
    }

    /** An ElasticMQ SendMessage as a GET URL: what the attacker's webhook pointed at. */
    static String sendMessage(String queueUrl, String body) {
        return queueUrl + "?Action=SendMessage&MessageBody=" + URLEncoder.encode(body, StandardCharsets.UTF_8);
    }

    static Map<String, AttributeValue> webhookKey(String clientId) {
        return Map.of("client_id", AttributeValue.fromS(dev.usagetracker.store.DynamoWebhookStore.key(clientId)));
    }

    /** The URL as an older build let it be stored (no check at PUT then). */
    static void storeWebhookUrl(String clientId, String url) {
        stack.dynamo().updateItem(r -> r.tableName(runtime.resource("ClientsTable")).key(webhookKey(clientId))
                .updateExpression("SET #u = :u").expressionAttributeNames(Map.of("#u", "url"))
                .expressionAttributeValues(Map.of(":u", AttributeValue.fromS(url))));
    }

    static void clearLastDelivery(String clientId) {
        stack.dynamo().updateItem(r -> r.tableName(runtime.resource("ClientsTable")).key(webhookKey(clientId))
                .updateExpression("REMOVE last_delivery_at, last_delivery_status"));
    }

    static Optional<String> lastDelivery(LiveClient c) {
        JsonNode last = api.get("/api/clients/me/webhook", Map.of("X-API-Key", c.key())).json().get("last_delivery");
        return last == null || last.isNull() ? Optional.empty() : Optional.of(last.get("status").asText());
    }

    static long dailyTotal(LiveClient c) {
        return api.get("/api/usage/daily?days=1", c.bearer()).json().get("clients").get(0).get("total").asLong();
    }

    static Reply patch(String path, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(runtime.baseUrl() + path))
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        headers.forEach(b::header);
        return api.send(b.build());
    }

    static String register(String id) {
        Reply r = api.post("/api/register", Map.of("name", id, "email", id + "-" + UUID.randomUUID().toString().substring(0, 4)
                + "@example.com", "client_id", id), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("api_key").asText();
    }

    /** Entries of the usage-events stream that name {@code clientId}. */
    static long streamEntriesOf(String clientId) {
        return redis.call(c -> c.xrange(UsageEvents.stream(redis), Range.unbounded())).stream()
                .filter(m -> m.getBody().getOrDefault("data", "").contains("\"client_id\":\"" + clientId + "\"")).count();
    }
}
