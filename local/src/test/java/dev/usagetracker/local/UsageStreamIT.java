package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageHub;
import dev.usagetracker.realtime.UsageStream;
import dev.usagetracker.realtime.UsageUpdate;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GET /api/usage/stream over real HTTP against the local runtime, fed through the real redis-server:
 * authentication (bearer, single-use tickets), who sees what, the wire format, Last-Event-ID resume,
 * heartbeats, limits, and that clients coming and going leave nothing behind. Updates are announced
 * here with {@link UsageEvents} exactly as the consumer announces them.
 */
@ExtendWith(TestStack.Extension.class)
class UsageStreamIT {
    static final String ADMIN_KEY = "sse-admin-key-0123456789";
    static final String STAGE = "sse-it";
    static final Duration WAIT = Duration.ofSeconds(10);
    static final ObjectMapper JSON = new ObjectMapper();
    static LocalRuntime runtime;
    static HttpJson api;
    static HttpClient http;
    static Redis redis;
    static UsageEvents events;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", STAGE, // the Redis key prefix: this runtime's channel and stream are its own
                        "SSE_HEARTBEAT_SECONDS", "0.2",
                        "SSE_MAX_STREAMS_PER_CLIENT", "3",
                        "RateLimitRead", "1000/1m",
                        "RateLimitRegister", "off"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 2, 2, false, "sse-"));
        api = new HttpJson(runtime.baseUrl());
        http = SseClient.http();
        redis = new Redis(stack.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "ut:" + STAGE + ":")));
        events = new UsageEvents(redis);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (redis != null) redis.close();
    }

    @Test
    void refusalsAreProblemsLikeOnEveryUsageRoute() {
        Reply anonymous = api.get("/api/usage/stream", Map.of());
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        assertThat(api.get("/api/usage/stream?ticket=st_short", Map.of()).status()).isEqualTo(401);
        assertThat(api.get("/api/usage/stream?ticket=st_" + "A".repeat(43), Map.of()).status()).isEqualTo(401);
        assertThat(api.get("/api/usage/stream", Map.of("Authorization", "Bearer not.a.token")).status()).isEqualTo(401);
        Reply badResume = api.get("/api/usage/stream", Map.of("Authorization", "Bearer " + LocalRuntimeE2EIT.token(api, ADMIN_KEY),
                "Last-Event-ID", "yesterday"));
        assertThat(badResume.status()).isEqualTo(400);
        assertThat(badResume.json().get("errors").get(0).get("field").asText()).isEqualTo("Last-Event-ID");
        assertThat(api.post("/api/usage/stream/ticket", "application/json", "", Map.of()).status()).isEqualTo(401);
        assertThat(api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/usage/stream"))
                .DELETE().build()).status()).isEqualTo(405);
    }

    @Test
    void aTicketOpensOneStreamOnceAndStandsForItsHolder() {
        LiveClient acme = register("acme");
        Reply issued = api.post("/api/usage/stream/ticket", "application/json", "", bearer(acme.token()));
        assertThat(issued.status()).as(issued.body()).isEqualTo(200);
        assertThat(issued.header("Cache-Control")).isEqualTo("no-store");
        assertThat(issued.json().get("expires_in").asInt()).isEqualTo(30);
        String ticket = issued.json().get("ticket").asText();
        assertThat(ticket).matches("st_[A-Za-z0-9_-]{43}");

        try (SseClient stream = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream?ticket=" + ticket, Map.of())) {
            assertThat(stream.status()).isEqualTo(200);
            assertThat(stream.header("Content-Type")).startsWith("text/event-stream");
            assertThat(stream.header("Cache-Control")).isEqualTo("no-store");
            assertThat(stream.header("RateLimit-Policy")).contains("read-1m");
            assertThat(stream.retry(WAIT).millis()).isEqualTo(3000);
            // the ticket's holder is acme: acme's updates arrive, not another client's
            publish("someone-else-" + acme.id(), 1);
            UsageUpdate own = publish(acme.id(), 1);
            assertThat(stream.nextEvent(WAIT).id()).isEqualTo(own.eventId());
        }
        Reply replayed = api.get("/api/usage/stream?ticket=" + ticket, Map.of());
        assertThat(replayed.status()).isEqualTo(401);
        assertThat(replayed.json().get("detail").asText()).contains("already used");
    }

    @Test
    void aClientSeesItsOwnUpdatesAndTheAdminSeesEveryone() throws Exception {
        LiveClient a = register("alpha");
        LiveClient b = register("beta");
        try (SseClient forA = open(a.token()); SseClient forB = open(b.token()); SseClient forAdmin = open(LocalRuntimeE2EIT.token(api, ADMIN_KEY))) {
            UsageUpdate first = publish(a.id(), 5);
            UsageUpdate second = publish(b.id(), 7);
            UsageUpdate third = publish(a.id(), 6);

            SseClient.Event e = forA.nextEvent(WAIT);
            assertThat(e.id()).isEqualTo(first.eventId()).matches("\\d+-\\d+");
            assertThat(e.event()).isEqualTo("usage");
            assertThat(JSON.readTree(e.data())).isEqualTo(JSON.readTree(
                    "{\"client_id\":\"" + a.id() + "\",\"date\":\"2026-11-25\",\"count\":5}"));
            // the next one for alpha is alpha's third: beta's update in between never reached it
            assertThat(forA.nextEvent(WAIT).id()).isEqualTo(third.eventId());
            assertThat(forB.nextEvent(WAIT).id()).isEqualTo(second.eventId());
            UsageUpdate sentinel = publish(b.id(), 8);
            assertThat(forB.nextEvent(WAIT).id()).isEqualTo(sentinel.eventId());

            List<String> adminSaw = new ArrayList<>();
            for (int i = 0; i < 4; i++) adminSaw.add(forAdmin.nextEvent(WAIT).id());
            assertThat(adminSaw).containsExactly(first.eventId(), second.eventId(), third.eventId(), sentinel.eventId());
        }
    }

    @Test
    void aPostedHitReachesTheStreamOnceTheConsumerCommittedIt() throws Exception {
        LiveClient c = register("posted");
        try (SseClient stream = open(c.token())) {
            Reply accepted = api.post("/api/logs", Map.of("hits", List.of(Map.of("ip", "203.0.113.9", "endpoint", "/a"),
                    Map.of("ip", "203.0.113.9", "endpoint", "/b"))), Map.of("X-API-Key", c.key()));
            assertThat(accepted.status()).isEqualTo(202);
            SseClient.Event e = stream.nextEvent(Duration.ofSeconds(30));
            assertThat(e.event()).isEqualTo("usage");
            assertThat(e.id()).matches("\\d+-\\d+");
            assertThat(JSON.readTree(e.data())).isEqualTo(JSON.readTree("{\"client_id\":\"" + c.id() + "\",\"date\":\""
                    + java.time.LocalDate.now(java.time.ZoneOffset.UTC) + "\",\"count\":2}"));
        }
    }

    @Test
    void lastEventIdReplaysWhatWasMissedThenGoesLive() throws Exception {
        LiveClient c = register("resume");
        UsageUpdate one = publish(c.id(), 1);
        UsageUpdate two = publish(c.id(), 2);
        publish("not-" + c.id(), 9);
        UsageUpdate three = publish(c.id(), 3);
        try (SseClient resumed = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream",
                Map.of("Authorization", "Bearer " + c.token(), "Last-Event-ID", one.eventId()))) {
            assertThat(resumed.status()).isEqualTo(200);
            assertThat(resumed.nextEvent(WAIT).id()).isEqualTo(two.eventId());
            SseClient.Event third = resumed.nextEvent(WAIT);
            assertThat(third.id()).isEqualTo(three.eventId());
            assertThat(JSON.readTree(third.data()).get("count").asLong()).isEqualTo(3);
            UsageUpdate live = publish(c.id(), 4);
            assertThat(resumed.nextEvent(WAIT).id()).isEqualTo(live.eventId());
        }
        // the same through the query parameter, as the dashboard re-opens a stream with a new ticket
        String ticket = api.post("/api/usage/stream/ticket", "application/json", "", bearer(c.token())).json().get("ticket").asText();
        try (SseClient resumed = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream?ticket=" + ticket
                + "&last_event_id=" + two.eventId(), Map.of())) {
            assertThat(resumed.nextEvent(WAIT).id()).isEqualTo(three.eventId());
        }
    }

    @Test
    void idleStreamsGetHeartbeatsAndEndWithinFiveSecondsWhenTheClientLosesAccessWhileOthersKeepReceiving() throws Exception {
        LiveClient c = register("fenced");
        LiveClient bystander = register("bystander");
        try (SseClient stream = open(c.token()); SseClient other = open(bystander.token())) {
            assertThat(stream.nextComment(WAIT).text()).startsWith("usage updates for " + c.id());
            assertThat(stream.nextComment(WAIT).text()).isEqualTo("heartbeat");
            assertThat(stream.nextComment(WAIT).text()).isEqualTo("heartbeat");
            // From another address the client narrows its allowlist to that address: the stream, opened
            // from 127.0.0.1, is re-checked (every STREAM_RECHECK_SECONDS, 4) and ends.
            HttpJson elsewhere = new HttpJson(runtime.baseUrl(), java.net.InetAddress.getByName("127.0.0.2"));
            Reply narrowed = elsewhere.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/me"))
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"allowed_ips\":[\"127.0.0.2\"]}"))
                    .header("Content-Type", "application/json").header("X-API-Key", c.key()).build());
            java.time.Instant changed = java.time.Instant.now();
            assertThat(narrowed.status()).as(narrowed.body()).isEqualTo(200);
            SseClient.Event end = stream.nextEvent(WAIT);
            java.time.Instant ended = stream.awaitEnd(WAIT);
            Duration after = Duration.between(changed, ended);
            System.out.printf("allowlist change -> SSE stream ended after %d ms%n", after.toMillis());
            assertThat(end.event()).isEqualTo("end");
            assertThat(JSON.readTree(end.data()).get("reason").asText()).isEqualTo("revoked");
            assertThat(after).isLessThanOrEqualTo(Duration.ofSeconds(5));
            // another client's stream is untouched and still receives
            UsageUpdate still = publish(bystander.id(), 1);
            assertThat(other.nextEvent(WAIT).id()).isEqualTo(still.eventId());
        }
        assertThat(api.get("/api/usage/stream", bearer(c.token())).status()).isEqualTo(403);
    }

    @Test
    void aRotationWithGraceZeroAndADisableEndTheAffectedStreamsWithinFiveSeconds() throws Exception {
        LiveClient rotated = register("rotated");
        LiveClient disabled = register("disabled");
        LiveClient bystander = register("bystander");
        String admin = LocalRuntimeE2EIT.token(api, ADMIN_KEY);
        String ticket = api.post("/api/usage/stream/ticket", "application/json", "", bearer(rotated.token())).json().get("ticket").asText();
        try (SseClient r = open(rotated.token());
             SseClient rTicket = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream?ticket=" + ticket, Map.of());
             SseClient d = open(disabled.token()); SseClient other = open(bystander.token())) {
            Reply rotation = api.post("/api/keys/rotate", Map.of("grace_seconds", 0), Map.of("X-API-Key", rotated.key()));
            assertThat(rotation.status()).as(rotation.body()).isEqualTo(200);
            java.time.Instant rotatedAt = java.time.Instant.now();
            Reply disabling = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/api/clients/" + disabled.id()))
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"disabled\":true}"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + admin).build());
            assertThat(disabling.status()).as(disabling.body()).isEqualTo(200);
            java.time.Instant disabledAt = java.time.Instant.now();
            assertThat(Duration.between(rotatedAt, r.awaitEnd(WAIT))).isLessThanOrEqualTo(Duration.ofSeconds(5));
            assertThat(Duration.between(rotatedAt, rTicket.awaitEnd(WAIT))).isLessThanOrEqualTo(Duration.ofSeconds(5));
            assertThat(Duration.between(disabledAt, d.awaitEnd(WAIT))).isLessThanOrEqualTo(Duration.ofSeconds(5));
            UsageUpdate still = publish(bystander.id(), 1);
            assertThat(other.nextEvent(WAIT).id()).isEqualTo(still.eventId());
        }
    }

    @Test
    void aClientMayHoldOnlySoManyStreams() {
        LiveClient c = register("greedy");
        List<SseClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                SseClient s = open(c.token());
                assertThat(s.status()).isEqualTo(200);
                open.add(s);
            }
            Reply fourth = api.get("/api/usage/stream", bearer(c.token()));
            assertThat(fourth.status()).isEqualTo(429);
            assertThat(fourth.header("Retry-After")).isEqualTo("5");
        } finally {
            open.forEach(SseClient::close);
        }
        Await.until(WAIT, "the closed streams to be noticed", () -> runtime.usageStreams().orElseThrow().open() == 0);
        try (SseClient again = open(c.token())) {
            assertThat(again.status()).isEqualTo(200);
        }
    }

    @Test
    void fiftyClientsComingAndGoingLeaveNoThreadsAndOneSubscription() {
        // Ten clients take turns: a server notices a client that left at its next write (a heartbeat),
        // and each client may hold only three streams meanwhile.
        List<LiveClient> clients = new ArrayList<>();
        for (int i = 0; i < 10; i++) clients.add(register("churn"));
        UsageStream streams = runtime.usageStreams().orElseThrow();
        UsageHub hub = runtime.usageHub().orElseThrow();
        for (int i = 0; i < 3; i++) cycle(clients.get(i));
        Await.until(WAIT, "warm-up streams to close", () -> streams.open() == 0 && hub.subscribers() == 0);
        Set<Long> threadsBefore = platformThreadIds();
        long gatewayThreadsBefore = gatewayThreads();

        List<SseClient> concurrent = new ArrayList<>();
        for (int i = 0; i < 3; i++) concurrent.add(open(clients.get(i).token()));
        assertThat(hub.subscribers()).isEqualTo(3);
        // one subscription for the whole process, however many clients
        assertThat(numsub()).isEqualTo(1);
        concurrent.forEach(SseClient::close);

        long started = System.nanoTime();
        for (int i = 0; i < 50; i++) cycle(clients.get(i % clients.size()));
        long cyclesMs = (System.nanoTime() - started) / 1_000_000;
        Await.until(WAIT, "every stream to be closed on the server", () -> streams.open() == 0 && hub.subscribers() == 0);
        long drainedMs = (System.nanoTime() - started) / 1_000_000;
        // No thread per connection survives it (streams run on virtual threads; carrier and common pools
        // size themselves to the cores, whatever the traffic, and are left out). The gateway's Jetty pool
        // (acceptors, selectors) may swap its few platform threads for new ones, but returns to its size.
        Await.until(WAIT, "threads started during the cycles to end: " + newThreads(threadsBefore),
                () -> newThreads(threadsBefore).isEmpty() && gatewayThreads() <= gatewayThreadsBefore);
        assertThat(numsub()).isEqualTo(1);
        // still serving after all that
        LiveClient last = clients.getLast();
        try (SseClient s = open(last.token())) {
            UsageUpdate u = publish(last.id(), 1);
            assertThat(s.nextEvent(WAIT).id()).isEqualTo(u.eventId());
        }
        System.out.printf("50 SSE connect/disconnect cycles: %d ms, all closed on the server after %d ms; "
                + "platform threads %d before, %d after, none of them new%n", cyclesMs, drainedMs, threadsBefore.size(),
                platformThreadIds().size());
    }

    /** Connects, reads the first field, leaves; waits for a stream slot if the client's are all taken. */
    private static void cycle(LiveClient c) {
        SseClient[] opened = new SseClient[1];
        Await.until(WAIT, "a stream slot for " + c.id(), () -> {
            SseClient s = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream", bearer(c.token()));
            if (s.status() == 200) {
                opened[0] = s;
                return true;
            }
            assertThat(s.status()).isEqualTo(429);
            s.close();
            return false;
        });
        try (SseClient s = opened[0]) {
            s.retry(WAIT);
        }
    }

    private static long numsub() {
        return redis.call(r -> r.pubsubNumsub(UsageEvents.channel(redis))).get(UsageEvents.channel(redis));
    }

    private static Set<Long> platformThreadIds() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::threadId).collect(Collectors.toSet());
    }

    private static long gatewayThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith("local-gateway-")).count();
    }

    private static List<String> newThreads(Set<Long> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !before.contains(t.threadId()) && !t.getName().startsWith("ForkJoinPool")
                        && !t.getName().startsWith("local-gateway-"))
                .map(Thread::getName).sorted().toList();
    }

    static SseClient open(String token) {
        SseClient s = SseClient.connect(http, runtime.baseUrl() + "/api/usage/stream", Map.of("Authorization", "Bearer " + token));
        assertThat(s.status()).isEqualTo(200);
        return s;
    }

    /** Announces a change as the consumer does (a day's count only grows: each test's clients are its own). */
    static UsageUpdate publish(String clientId, long count) {
        List<UsageUpdate> published = events.publish(List.of(new UsageUpdate("", clientId, "2026-11-25", "2026-11-25T10",
                count, count, 1)));
        assertThat(published).hasSize(1);
        return published.getFirst();
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }

    static LiveClient register(String prefix) {
        return LiveClient.register(api, prefix);
    }
}
