package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.local.HttpJson.Reply;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Usage alerts end to end on the local runtime (real redis-server, ElasticMQ, moto_server): every client
 * is on the stand-in default plan with a quota of 100 hits a month and thresholds at 50 % and 100 %, the
 * receiver is a JDK HttpServer on loopback (the local runtime allows it), and the retry schedule is
 * shortened to 1 s steps. The delivery log of the run is printed at the end.
 */
@ExtendWith(TestStack.Extension.class)
class WebhookIT {
    static final String ADMIN_KEY = "webhook-admin-key-0123456789";
    static final Duration WAIT = Duration.ofSeconds(30);
    static final ObjectMapper JSON = new ObjectMapper();
    static LocalRuntime runtime;
    static HttpJson api;
    static WebhookReceiver receiver;
    static TestStack stack;

    @BeforeAll
    static void start(TestStack testStack) throws Exception {
        stack = testStack;
        receiver = new WebhookReceiver();
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", "webhook-it",
                        "WEBHOOK_ALLOW_PRIVATE", "true",
                        "PLAN_DEFAULT_MONTHLY_QUOTA", "100",
                        "PLAN_DEFAULT_ALERT_THRESHOLDS", "50,100",
                        "WEBHOOK_RETRY_SCHEDULE", "1s,1s,1s",
                        "AUTH_CACHE_SECONDS", "0",
                        "RateLimitIngest", "100000/1m",
                        "RateLimitRead", "1000/1m",
                        "RateLimitRegister", "off"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 30, 4, false, "wh-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (receiver != null) {
            System.out.println("webhook delivery log (receiver side):");
            receiver.logLines().forEach(l -> System.out.println("  " + l));
            receiver.close();
        }
        if (runtime != null) runtime.close();
    }

    @Test
    void eachThresholdFiresExactlyOnceSignedAndOnTheLiveStream() throws Exception {
        LiveClient c = LiveClient.register(api, "alerts");
        String secret = putWebhook(c, receiver.url("/ok")).get("secret").asText();
        assertThat(secret).startsWith("whsec_");
        HttpClient http = SseClient.http();
        try (SseClient stream = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream", c.bearer())) {
            assertThat(stream.status()).isEqualTo(200);
            // 250 hits in batches of mixed sizes from 4 threads: the consumer sees many interleavings.
            int[] sizes = {1, 7, 13, 25, 3, 40, 2, 9};
            AtomicInteger left = new AtomicInteger(250);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> posted = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                posted.add(pool.submit(() -> {
                    int i = thread;
                    while (true) {
                        int want = sizes[i++ % sizes.length];
                        int n = Math.min(want, left.getAndAdd(-want));
                        if (n <= 0) return null;
                        if (n < want) left.addAndGet(want - n); // leaves left at <= 0 for everyone
                        postHits(c, n);
                    }
                }));
            }
            for (Future<?> f : posted) f.get();
            pool.shutdown();
            awaitCount(c, 250);

            List<WebhookReceiver.Delivery> events = receiver.await(d -> isThresholdFor(d, c.id()), 2, WAIT);
            Thread.sleep(3_000); // time for a wrong second event to arrive
            events = receiver.deliveries(d -> isThresholdFor(d, c.id()));
            assertThat(events).hasSize(2);
            List<Integer> thresholds = new ArrayList<>();
            String period = YearMonth.now(ZoneOffset.UTC).toString();
            for (WebhookReceiver.Delivery d : events) {
                verifySignature(d, secret);
                JsonNode body = JSON.readTree(d.body());
                JsonNode data = body.get("data");
                assertThat(data.get("client_id").asText()).isEqualTo(c.id());
                assertThat(data.get("period").asText()).isEqualTo(period);
                assertThat(data.get("monthly_quota").asLong()).isEqualTo(100);
                assertThat(data.get("used").asLong()).isGreaterThanOrEqualTo(data.get("threshold").asLong())
                        .isLessThanOrEqualTo(250);
                assertThat(body.get("timestamp").asText()).endsWith("Z");
                thresholds.add(data.get("threshold").asInt());
            }
            assertThat(thresholds).containsExactlyInAnyOrder(50, 100);
            assertThat(events.get(0).id()).isNotEqualTo(events.get(1).id());

            // the live stream carries the same two events (among the usage updates)
            List<JsonNode> live = new ArrayList<>();
            long end = System.nanoTime() + WAIT.toNanos();
            while (live.size() < 2 && System.nanoTime() < end) {
                SseClient.Event e = stream.nextEvent(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
                if (e.event().equals("threshold")) live.add(JSON.readTree(e.data()));
            }
            assertThat(live).hasSize(2);
            for (JsonNode alert : live) {
                JsonNode matching = events.stream().map(d -> readData(d)).filter(d -> d.get("threshold").equals(alert.get("threshold")))
                        .findFirst().orElseThrow();
                assertThat(alert).isEqualTo(matching);
            }
        }

        // the claims are in the Usage table, where GET /api/usage/quota reads reached_at
        var claim = stack.dynamo().getItem(r -> r.tableName(runtime.resource("UsageTable")).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS(c.id() + "#alert#" + YearMonth.now(ZoneOffset.UTC))))).item();
        assertThat(claim).containsKeys("reached_at_50", "reached_at_100");
        Reply got = api.get("/api/clients/me/webhook", c.bearer());
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.json().get("last_delivery").get("status").asText()).isEqualTo("200");
        assertThat(got.json().has("secret")).isFalse();
    }

    @Test
    void aReplayedHitMessageDoesNotSendASecondEvent() throws Exception {
        LiveClient c = LiveClient.register(api, "replay");
        putWebhook(c, receiver.url("/ok"));
        postHits(c, 49);
        awaitCount(c, 49);
        assertThat(receiver.deliveries(d -> isThresholdFor(d, c.id()))).isEmpty();
        // One message that takes the client from 49 to 50, delivered three times as SQS may.
        String body = "{\"v\":1,\"batch_id\":\"replay-" + c.id() + "\",\"part\":0,\"offset\":0,\"client_id\":\"" + c.id()
                + "\",\"received_at\":\"" + java.time.Instant.now() + "\",\"hits\":[{\"t\":" + System.currentTimeMillis()
                + ",\"ip\":\"203.0.113.5\",\"ep\":\"/replayed\"}]}";
        String queue = runtime.resource("HitsQueue");
        stack.sqs().sendMessage(r -> r.queueUrl(queue).messageBody(body));
        stack.sqs().sendMessage(r -> r.queueUrl(queue).messageBody(body));
        receiver.await(d -> isThresholdFor(d, c.id()), 1, WAIT);
        stack.sqs().sendMessage(r -> r.queueUrl(queue).messageBody(body));
        Thread.sleep(3_000);
        awaitCount(c, 50);
        List<WebhookReceiver.Delivery> events = receiver.deliveries(d -> isThresholdFor(d, c.id()));
        assertThat(events).hasSize(1);
        assertThat(readData(events.getFirst()).get("threshold").asInt()).isEqualTo(50);
        assertThat(readData(events.getFirst()).get("used").asLong()).isEqualTo(50);
    }

    @Test
    void aRetriedDeliveryKeepsItsWebhookId() throws Exception {
        LiveClient c = LiveClient.register(api, "flaky");
        String secret = putWebhook(c, receiver.url("/flaky")).get("secret").asText();
        Reply queued = api.post("/api/clients/me/webhook/test", "application/json", "", c.bearer());
        assertThat(queued.status()).as(queued.body()).isEqualTo(202);
        String id = queued.json().get("webhook_id").asText();
        List<WebhookReceiver.Delivery> attempts = receiver.await(d -> id.equals(d.id()), 4, WAIT);
        assertThat(attempts).extracting(WebhookReceiver.Delivery::status).containsExactly(500, 500, 500, 204);
        for (WebhookReceiver.Delivery d : attempts) {
            assertThat(d.id()).isEqualTo(id);
            verifySignature(d, secret);
            JsonNode body = JSON.readTree(d.body());
            assertThat(body.get("type").asText()).isEqualTo("webhook.test");
            assertThat(body.get("data").get("client_id").asText()).isEqualTo(c.id());
        }
        // growing delays: each retry waits at least the schedule's second
        for (int i = 1; i < attempts.size(); i++) {
            assertThat(Duration.between(attempts.get(i - 1).at(), attempts.get(i).at())).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        }
        awaitLastDelivery(c, "204");
    }

    @Test
    void aGoneReceiverDisablesTheWebhook() throws Exception {
        LiveClient c = LiveClient.register(api, "gone");
        putWebhook(c, receiver.url("/gone"));
        String id = api.post("/api/clients/me/webhook/test", "application/json", "", c.bearer()).json().get("webhook_id").asText();
        receiver.await(d -> id.equals(d.id()), 1, WAIT);
        long end = System.nanoTime() + WAIT.toNanos();
        JsonNode webhook;
        do {
            webhook = api.get("/api/clients/me/webhook", c.bearer()).json();
            Thread.sleep(100);
        } while (webhook.get("disabled_reason").isNull() && System.nanoTime() < end);
        assertThat(webhook.get("disabled_reason").asText()).contains("410");
        Thread.sleep(2_500); // no retry follows a 410
        assertThat(receiver.deliveries(d -> id.equals(d.id()))).hasSize(1);
        Reply again = api.post("/api/clients/me/webhook/test", "application/json", "", c.bearer());
        assertThat(again.status()).isEqualTo(409);
        // saving it again re-enables it
        putWebhook(c, receiver.url("/ok"));
        assertThat(api.get("/api/clients/me/webhook", c.bearer()).json().get("disabled_reason").isNull()).isTrue();
    }

    @Test
    void aReceiverThatNeverAnswersTimesOutAndEndsInTheDeadLetterQueue() throws Exception {
        LiveClient c = LiveClient.register(api, "hang");
        putWebhook(c, receiver.url("/hang"));
        String id = api.post("/api/clients/me/webhook/test", "application/json", "", c.bearer()).json().get("webhook_id").asText();
        String dlq = runtime.resource("WebhookDeadLetterQueue");
        Message dead = null;
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (dead == null && System.nanoTime() < end) {
            for (Message m : stack.sqs().receiveMessage(r -> r.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(1)).messages()) {
                if (m.body().contains(id)) dead = m;
            }
        }
        assertThat(dead).as("the attempt reached the dead-letter queue").isNotNull();
        JsonNode message = JSON.readTree(dead.body());
        assertThat(message.get("attempt").asInt()).isEqualTo(4);
        assertThat(message.get("recipient").asText()).isEqualTo(c.id());
        assertThat(receiver.deliveries(d -> id.equals(d.id()))).hasSize(4);
        awaitLastDelivery(c, "timeout");
    }

    @Test
    void theRoutesRefuseWhatTheyMust() {
        LiveClient c = LiveClient.register(api, "routes");
        assertThat(api.get("/api/clients/me/webhook", c.bearer()).status()).isEqualTo(404);
        assertThat(api.post("/api/clients/me/webhook/test", "application/json", "", c.bearer()).status()).isEqualTo(404);
        assertThat(api.delete("/api/clients/me/webhook", Map.of("X-API-Key", c.key())).status()).isEqualTo(404);
        // a bearer token cannot set a secret: valid credentials, not enough for this (403), the API key itself is required
        Reply byToken = api.put("/api/clients/me/webhook", Map.of("url", receiver.url("/ok"), "events", List.of("usage.threshold")),
                c.bearer());
        assertThat(byToken.status()).isEqualTo(403);
        assertThat(byToken.body()).contains("API key itself");
        Reply scope = api.put("/api/clients/me/webhook", Map.of("url", receiver.url("/ok"), "events", List.of("usage.threshold"),
                "scope", "all"), Map.of("X-API-Key", c.key()));
        assertThat(scope.status()).isEqualTo(403);
        Reply invalid = api.put("/api/clients/me/webhook", Map.of("url", "ftp://x", "events", List.of("usage.nope")),
                Map.of("X-API-Key", c.key()));
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("errors").findValuesAsText("field")).contains("url", "events[0]");
        putWebhook(c, receiver.url("/ok"));
        // nor silence the alerts: removing the webhook needs the API key itself too (issue 22)
        Reply deletedByToken = api.delete("/api/clients/me/webhook", c.bearer());
        assertThat(deletedByToken.status()).isEqualTo(403);
        assertThat(deletedByToken.body()).contains("API key itself");
        assertThat(api.get("/api/clients/me/webhook", c.bearer()).status()).as("still there").isEqualTo(200);
        Reply deleted = api.delete("/api/clients/me/webhook", Map.of("X-API-Key", c.key()));
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();
        assertThat(api.get("/api/clients/me/webhook", Map.of("X-API-Key", c.key())).status()).isEqualTo(404);
    }

    // ---------------------------------------------------------------- helpers

    static JsonNode putWebhook(LiveClient c, String url) {
        Reply r = api.put("/api/clients/me/webhook", Map.of("url", url, "events", List.of("usage.threshold")), Map.of("X-API-Key", c.key()));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Cache-Control")).isEqualTo("no-store");
        return r.json();
    }

    static void postHits(LiveClient c, int n) {
        List<Map<String, String>> hits = new ArrayList<>();
        for (int i = 0; i < n; i++) hits.add(Map.of("ip", "203.0.113." + (i % 250 + 1), "endpoint", "/api/items/" + i));
        // A 503 means "not acknowledged" (a dependency was slow on this loaded machine): retry it with the
        // same Idempotency-Key, as the SDKs do, so nothing is counted twice.
        String idempotencyKey = java.util.UUID.randomUUID().toString();
        Reply r = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            r = api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", c.key(), "Idempotency-Key", idempotencyKey));
            if (r.status() != 503) break;
            try {
                Thread.sleep(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        assertThat(r.status()).as(r.body()).isEqualTo(202);
    }

    static void awaitCount(LiveClient c, long expected) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        long total = -1;
        while (System.nanoTime() < end) {
            Reply r = api.get("/api/usage/daily?days=1", c.bearer());
            total = r.json().get("clients").get(0).get("total").asLong();
            if (total == expected) return;
            Thread.sleep(200);
        }
        throw new AssertionError("count " + total + ", expected " + expected);
    }

    static void awaitLastDelivery(LiveClient c, String status) throws InterruptedException {
        long end = System.nanoTime() + WAIT.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            last = api.get("/api/clients/me/webhook", c.bearer()).json().get("last_delivery");
            if (!last.isNull() && last.get("status").asText().equals(status)) return;
            Thread.sleep(100);
        }
        throw new AssertionError("last_delivery " + last + ", expected status " + status);
    }

    static boolean isThresholdFor(WebhookReceiver.Delivery d, String clientId) {
        JsonNode data = readData(d);
        return d.body().contains("\"usage.threshold\"") && data != null && clientId.equals(data.path("client_id").asText());
    }

    static JsonNode readData(WebhookReceiver.Delivery d) {
        try {
            return JSON.readTree(d.body()).get("data");
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** With the Standard Webhooks library's verifier, and by recomputing the HMAC by hand. */
    static void verifySignature(WebhookReceiver.Delivery d, String secret) throws Exception {
        Map<String, List<String>> headers = new HashMap<>();
        for (String h : List.of("webhook-id", "webhook-timestamp", "webhook-signature")) headers.put(h, List.of(d.header(h)));
        new com.standardwebhooks.Webhook(secret).verify(d.body(), headers);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
        String expected = "v1," + Base64.getEncoder().encodeToString(mac.doFinal(
                (d.id() + "." + d.header("webhook-timestamp") + "." + d.body()).getBytes(StandardCharsets.UTF_8)));
        assertThat(d.header("webhook-signature")).isEqualTo(expected);
        assertThat(d.id()).matches("msg_[0-9a-f]{26}");
        assertThat(Long.parseLong(d.header("webhook-timestamp"))).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(120L));
    }
}
