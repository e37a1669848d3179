package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 30 through the whole local runtime (function jars, ElasticMQ, moto_server, redis-server), on a
 * {@link ChaosStack} of its own with the template's default limits and the functions' own SDK timeouts: a
 * burst of single-hit requests from 100 connections by one client on a plan with every limit off is
 * answered 202 (no 429 from a limit the plan does not have), every 202 is counted exactly once, and
 * {@code POST /api/token} keeps answering meanwhile; a plan that cannot be read keeps its last known limits.
 *
 * <p>The suite plays {@link #REQUESTS} requests (the {@code burst.requests} property; 2,000 by default so the
 * whole suite stays fast); bench/ingest --burst plays issue 30's 10,000 and prints the figures.
 *
 * <p>Tagged {@code solo}: the burst keeps both cores busy for a minute or more, which is what it is about; beside
 * a second test JVM on a loaded machine it took 82 s to send and {@code POST /api/token} went 24 s without a 200
 * (the bound is 60 s), so it runs in a test JVM of its own after the others (local/pom.xml).
 */
@Tag("solo")
class BurstIT {
    static final int REQUESTS = Integer.getInteger("burst.requests", 2_000);
    static final int CONNECTIONS = 100;
    /** Liveness, not speed: a wedge (issue 30 saw seven minutes of 503s) must fail, a slow machine must not. */
    static final Duration LONGEST_ACCEPTABLE_AUTH_STALL = Duration.ofSeconds(60);
    static final Duration DRAIN_LIMIT = Duration.ofMinutes(10);
    static final int PLAN_CACHE_SECONDS = 2;
    static ChaosStack stack;
    static HttpJson api;
    static Map<String, String> admin;

    @BeforeAll
    static void start() throws Exception {
        // The template's defaults for the default plan (ChaosStack raises them): a client that fell back to
        // them would meet "ingest-1m";q=500 within the first second of the burst.
        stack = ChaosStacks.start("burst", 1, 30,
                Map.of("RateLimitIngest", "500/1m,1000/1h", "RateLimitIngestHits", "60000/1m", "RateLimitRead", "60/1m,1000/1h",
                        "PlanCacheSeconds", Integer.toString(PLAN_CACHE_SECONDS)));
        api = new HttpJson(stack.baseUrl());
        admin = HttpJson.bearer(api.token(ChaosStack.ADMIN_KEY));
    }

    @AfterAll
    static void stop() {
        if (stack != null) stack.close();
    }

    @AfterEach
    void heal() {
        stack.restoreAll();
    }

    @Test
    void aBurstOnAnUnlimitedPlanIsAcknowledgedCountedExactlyOnceAndTokensKeepBeingIssued() throws Exception {
        Reply plan = api.put("/api/plans/unlimited", Map.of("limits", Map.of("ingest", "off", "ingest_hits", "off", "read", "off")), admin);
        assertThat(plan.status()).as(plan.body()).isEqualTo(200);
        JsonNode loader = api.register("burst-loader");
        String loaderId = loader.get("client_id").asText();
        assertThat(patch("/api/clients/" + loaderId, "{\"plan\":\"unlimited\"}").statusCode()).isEqualTo(200);
        // The probe asks four times a second: on the plan without limits too, so its own rate limit is not a stall.
        JsonNode prober = api.register("burst-probe");
        assertThat(patch("/api/clients/" + prober.get("client_id").asText(), "{\"plan\":\"unlimited\"}").statusCode()).isEqualTo(200);
        String probeKey = prober.get("api_key").asText();

        Burst.Result burst;
        Burst.AuthProbe probe = new Burst.AuthProbe(stack.baseUrl(), probeKey, Duration.ofMillis(250));
        long t0 = System.nanoTime();
        Duration drain = null;
        long counted;
        try {
            burst = new Burst(stack.baseUrl()).send(loader.get("api_key").asText(), REQUESTS, CONNECTIONS);
            long deadline = System.nanoTime() + DRAIN_LIMIT.toNanos();
            // The admin reads on the default plan here (60 reads a minute): a poll every 1.5 s leaves room for the
            // rest of the class's admin calls when the drain is slow (parts deferred to SQS's redelivery).
            while ((counted = stack.counts().getOrDefault(loaderId, 0L)) < burst.acknowledged() && System.nanoTime() < deadline) {
                Thread.sleep(1_500);
            }
            if (counted >= burst.acknowledged()) drain = Duration.ofNanos(System.nanoTime() - t0);
        } finally {
            probe.close();
        }
        System.out.printf("burst of %d from %d connections: sent in %.1f s, %s, refusals %s; every 202 counted after %s;"
                        + " POST /api/token %s, longest stall %d ms%n", REQUESTS, CONNECTIONS, burst.sendSeconds(), burst.statuses(),
                burst.refusals(), drain, probe.statuses(), probe.longestStall().toMillis());

        assertThat(burst.refusals().keySet()).as("no 429: the plan has no limits").noneMatch(k -> k.startsWith("429"));
        assertThat(burst.missingRetryAfter()).as("every 503 says when to come back").isZero();
        assertThat(drain).as("every acknowledged hit counted within %s", DRAIN_LIMIT).isNotNull();
        stack.settle(Duration.ofMinutes(3));
        counted = stack.counts().getOrDefault(loaderId, 0L);
        // A 503 is not an acknowledgement, but a hit behind one may have landed: only the 202s are promised.
        if (burst.unacknowledged() == 0) {
            assertThat(counted).as("every 202 counted exactly once").isEqualTo(burst.acknowledged());
        } else {
            assertThat(counted).isBetween(burst.acknowledged(), (long) REQUESTS);
        }
        assertThat(probe.answered()).as("POST /api/token answered 200 during the burst").isPositive();
        assertThat(probe.longestStall()).as("POST /api/token never went without a 200 for long").isLessThan(LONGEST_ACCEPTABLE_AUTH_STALL);
    }

    @Test
    void aPlanThatCannotBeReadKeepsItsLastKnownLimits() throws Exception {
        Reply plan = api.put("/api/plans/steady", Map.of("limits", Map.of("ingest", "7777/1m")), admin);
        assertThat(plan.status()).as(plan.body()).isEqualTo(200);
        JsonNode client = api.register("steady");
        assertThat(patch("/api/clients/" + client.get("client_id").asText(), "{\"plan\":\"steady\"}").statusCode()).isEqualTo(200);
        Map<String, String> key = Map.of("X-API-Key", client.get("api_key").asText());
        Map<String, String> hit = Map.of("ip", "203.0.113.9", "endpoint", "/api/items/1");
        // One request at a time reaches the same warm container: its key, client row and plan are cached.
        Reply before = api.post("/api/logs", hit, key);
        assertThat(before.status()).as(before.body()).isEqualTo(202);
        assertThat(before.header("RateLimit-Policy")).contains("\"ingest-1m\";q=7777");

        stack.cutDynamo();
        Thread.sleep(Duration.ofSeconds(PLAN_CACHE_SECONDS + 1).toMillis()); // the plan's TTL is over: it must be read again
        Reply during = api.post("/api/logs", hit, key);
        stack.restoreDynamo();

        assertThat(during.status()).as(during.body()).isEqualTo(202);
        assertThat(during.header("RateLimit-Policy")).as("the plan last read, not the default plan's 500/1m")
                .contains("\"ingest-1m\";q=7777").doesNotContain("q=500");
    }

    private static java.net.http.HttpResponse<String> patch(String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(stack.baseUrl() + path))
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
                .header("Authorization", admin.get("Authorization")).build();
        return java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
    }
}
