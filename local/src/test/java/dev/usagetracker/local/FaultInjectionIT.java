package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5 with the real components: while clients send thousands of hits over HTTP through the
 * local runtime, SQS or DynamoDB is cut off, DynamoDB is frozen, or the consumer is killed; after
 * recovery every client's count must equal what was acknowledged with 202. Runs on a {@link ChaosStack}
 * of its own (own emulators), so the damage never reaches the other test classes.
 *
 * <p>Tagged {@code solo}: it bounds a read's latency under a hung DynamoDB (below the function's timeout) while
 * thousands of hits load the machine, so it runs in a test JVM of its own after the others (local/pom.xml).
 */
@Tag("solo")
class FaultInjectionIT {
    static ChaosStack stack;
    static HttpJson api;
    /** /health/* are the local runtime's own routes, not part of the API contract. */
    static HttpJson health;

    @BeforeAll
    static void start() throws Exception {
        stack = ChaosStacks.start("faults", 1, 2, Map.of());
        api = new HttpJson(stack.baseUrl());
        health = HttpJson.uncheckedFor(stack.baseUrl());
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
    void sqsOutageUnderLoadFailsOverToDynamoDbAndLosesNothing() throws Exception {
        LoadGenerator load = load("sqs-out", 3, 3);
        ManagedProcess.sleep(2_000);
        stack.cutSqs();
        long ackedBefore = load.acknowledged();
        ManagedProcess.sleep(1_500);
        JsonNode ready = readyDuringFault(200);
        assertThat(ready.get("status").asText()).isEqualTo("degraded");
        assertThat(ready.at("/components/sqs/status").asText()).isEqualTo("down");
        assertThat(ready.at("/components/dynamodb/status").asText()).isEqualTo("ok");
        ManagedProcess.sleep(2_500);
        long ackedDuringOutage = load.acknowledged() - ackedBefore;
        stack.restoreSqs();
        ManagedProcess.sleep(2_000);

        ChaosStack.Verdict verdict = finish(load, "SQS outage");
        assertThat(ackedDuringOutage).as("hits acknowledged while SQS was unreachable (written straight to DynamoDB)").isPositive();
        assertThat(load.unacknowledged()).as("no request failed while DynamoDB could take the hits").isZero();
        assertThat(verdict.violations()).isEmpty();
    }

    /**
     * Issue 29, finding 8: hits the ingest writes straight to DynamoDB while SQS is down pass through the
     * same after-commit observers as the consumer's: the alert detector claims the threshold they cross
     * (before SQS comes back, so no consumer batch can have done it), and the Redis mirrors (daily and
     * hourly counters, this month's counter, the endpoint mirror) hold exactly what was committed.
     */
    @Test
    void hitsWrittenStraightToDynamoDbWhileSqsIsDownCrossThresholdsAndReachTheMirrors() throws Exception {
        String admin = api.token(ChaosStack.ADMIN_KEY);
        String plan = "fallback-" + java.util.UUID.randomUUID().toString().substring(0, 6);
        Reply defined = api.put("/api/plans/" + plan, Map.of("monthly_quota", 20, "alert_thresholds", List.of(50, 100)),
                HttpJson.bearer(admin));
        assertThat(defined.status()).as(defined.body()).isIn(200, 201);
        LoadGenerator.Client client = stack.register("fallback-alert", 1, false).getFirst();
        Reply assigned = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(stack.baseUrl() + "/api/clients/" + client.clientId()))
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"plan\":\"" + plan + "\"}"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + admin)
                .timeout(Duration.ofSeconds(30)).build());
        assertThat(assigned.status()).as(assigned.body()).isEqualTo(200);
        String token = api.token(client.apiKey());

        stack.cutSqs();
        List<Map<String, String>> hits = new ArrayList<>();
        for (int i = 0; i < 12; i++) hits.add(Map.of("ip", "192.0.2." + (i + 1), "endpoint", "/fallback/" + (i % 3)));
        Reply accepted = api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", client.apiKey()));
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);

        // Still during the outage: the 50 % threshold (10 of 20) is claimed, the 100 % one is not.
        JsonNode quota = api.get("/api/usage/quota", HttpJson.bearer(token)).json();
        assertThat(quota.get("used").asLong()).isEqualTo(12);
        assertThat(quota.get("thresholds").get(0).get("percent").asInt()).isEqualTo(50);
        assertThat(quota.get("thresholds").get(0).get("reached_at").isNull()).as("50 %% reached: " + quota).isFalse();
        assertThat(quota.get("thresholds").get(1).get("reached_at").isNull()).as("100 %% not reached: " + quota).isTrue();

        try (var redis = new dev.usagetracker.redis.Redis(stack.runtime().emulators().orElseThrow().redisUrl(),
                dev.usagetracker.redis.RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "")))) {
            String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
            String month = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
            List<String> keys = new ArrayList<>();
            io.lettuce.core.ScanCursor cursor = io.lettuce.core.ScanCursor.INITIAL;
            do {
                io.lettuce.core.ScanCursor from = cursor;
                var page = redis.call(c -> c.scan(from, io.lettuce.core.ScanArgs.Builder.matches("*" + client.clientId() + "*").limit(1000)));
                keys.addAll(page.getKeys());
                cursor = page;
            } while (!cursor.isFinished());
            String daily = keys.stream().filter(k -> k.endsWith("count:" + client.clientId() + ":" + today)).findFirst()
                    .orElseThrow(() -> new AssertionError("no daily counter among " + keys));
            String dailyCount = redis.call(c -> c.get(daily));
            assertThat(dailyCount).as(daily).isEqualTo("12");
            String hourly = keys.stream().filter(k -> k.contains("count:" + client.clientId() + ":" + today + "T")).findFirst()
                    .orElseThrow(() -> new AssertionError("no hourly counter among " + keys));
            String hourlyCount = redis.call(c -> c.get(hourly));
            assertThat(hourlyCount).as(hourly).isEqualTo("12");
            String monthly = keys.stream().filter(k -> k.endsWith("month:{" + client.clientId() + "}:" + month)).findFirst()
                    .orElseThrow(() -> new AssertionError("no monthly counter among " + keys));
            String monthlyCount = redis.call(c -> c.get(monthly));
            assertThat(monthlyCount).as(monthly).isEqualTo("12");
            assertThat(keys).as("the endpoint mirror of today").anyMatch(k -> k.endsWith("endpoints:" + client.clientId() + ":" + today));
        }
        stack.restoreSqs();
        JsonNode endpoints = api.get("/api/usage/endpoints", HttpJson.bearer(token)).json();
        // the three paths are one route template; its count is what the fallback committed
        assertThat(endpoints.get("total").asLong()).isEqualTo(12);
        assertThat(endpoints.get("endpoints").get(0).get("endpoint").asText()).isEqualTo("/fallback/{id}");
        assertThat(endpoints.get("endpoints").get(0).get("count").asLong()).isEqualTo(12);
    }

    @Test
    void hungDynamoDbIsBufferedBySqsWhileReadsAnswer503() throws Exception {
        String token = LocalRuntimeE2EIT.token(api, ChaosStack.ADMIN_KEY);
        // the authorizer and the route have seen this token once, as any client that reads its usage has
        assertThat(api.get("/api/usage/daily", Map.of("Authorization", "Bearer " + token)).status()).isEqualTo(200);
        LoadGenerator load = load("ddb-hang", 2, 2);
        // A keyed request of the test's own, sent while DynamoDB is frozen: the load's keyed requests meet
        // the outage only by timing (a passing run saw one 503 in 266 requests, a CI run none at all)
        LoadGenerator.Client probe = stack.register("ddb-hang-probe", 1, true).getFirst();
        Map<String, Object> probeHit = Map.of("ip", "192.0.2.1", "endpoint", "/probe");
        Map<String, String> probeHeaders = Map.of("X-API-Key", probe.apiKey(), "Idempotency-Key", "probe-" + probe.clientId());
        // Six ingest containers, started while DynamoDB answers: the load's four threads can hold at most
        // four of them, so the probe finds a warm one (a container started during the freeze would wait for
        // DynamoDB in its init, and the probe with it)
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<Thread> warmers = new ArrayList<>();
        List<Integer> warmed = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 6; i++) {
            warmers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                warmed.add(api.post("/api/logs", probeHit, Map.of("X-API-Key", probe.apiKey())).status());
            }));
        }
        go.countDown();
        for (Thread t : warmers) t.join(30_000);
        assertThat(warmed).containsOnly(202);
        ManagedProcess.sleep(2_000);
        var unkeyed = load.tallies().entrySet().stream().filter(e -> e.getKey().contains("-plain-")).toList();
        long unkeyedBefore = unkeyed.stream().mapToLong(e -> e.getValue().acknowledged()).sum();
        stack.pauseDynamo();
        try {
            // its idempotency record lives in DynamoDB: refused within the call timeout, with Retry-After
            Reply keyed = api.post("/api/logs", probeHit, probeHeaders);
            LocalRuntimeE2EIT.assertProblem(keyed, 503);
            assertThat(keyed.header("Retry-After")).isNotBlank();
            long t0 = System.nanoTime();
            Reply daily = api.get("/api/usage/daily", Map.of("Authorization", "Bearer " + token));
            long readMillis = (System.nanoTime() - t0) / 1_000_000;
            // The response cache answers while the database hangs (docs/caching.md); without an entry: 503.
            if (daily.status() == 200) {
                assertThat(daily.header("X-Cache")).isIn("HIT", "STALE");
            } else {
                LocalRuntimeE2EIT.assertProblem(daily, 503);
                assertThat(daily.header("Retry-After")).isNotBlank();
            }
            assertThat(readMillis).as("a hung DynamoDB fails the read within the call timeout, not a Lambda timeout")
                    .isLessThan(10_000);
            JsonNode ready = readyDuringFault(200);
            assertThat(ready.at("/components/dynamodb/status").asText()).isEqualTo("down");
            assertThat(ready.at("/components/sqs/status").asText()).isNotEqualTo("down");
            // long enough that keyed requests (their idempotency record lives in DynamoDB) meet the outage
            // even when a loaded machine slows the load generator down
            ManagedProcess.sleep(6_000);
        } finally {
            stack.resumeDynamo();
        }
        long unkeyedDuringOutage = unkeyed.stream().mapToLong(e -> e.getValue().acknowledged()).sum() - unkeyedBefore;
        ManagedProcess.sleep(2_000);

        ChaosStack.Verdict verdict = finish(load, "DynamoDB hung (SIGSTOP)");
        assertThat(unkeyedDuringOutage).as("hits without a key acknowledged into SQS while DynamoDB was frozen").isPositive();
        // the refused request, retried with its key once DynamoDB is back, is acknowledged
        Reply retried = api.post("/api/logs", probeHit, probeHeaders);
        assertThat(retried.status()).as(retried.body()).isEqualTo(202);
        assertThat(verdict.violations()).isEmpty();
    }

    @Test
    void sqsAndDynamoDbDownTogetherAcknowledgeNothingAndLoseNothing() throws Exception {
        List<LoadGenerator.Client> keyed = stack.register("both-key", 2, true);
        List<LoadGenerator.Client> plain = stack.register("both-plain", 2, false);
        List<LoadGenerator.Client> all = new ArrayList<>(keyed);
        all.addAll(plain);
        LoadGenerator load = new LoadGenerator(stack.baseUrl(), all, new LoadGenerator.Options(2, 50, Long.MAX_VALUE,
                Duration.ofMillis(20), 7)).prime();
        stack.cutSqs();
        stack.cutDynamo();
        for (LoadGenerator.Client c : all) {
            Reply r = api.post("/api/logs", Map.of("hits", List.of(Map.of("ip", "192.0.2.1", "endpoint", "/x"))),
                    c.idempotent() ? Map.of("X-API-Key", c.apiKey(), "Idempotency-Key", "k-" + c.clientId())
                            : Map.of("X-API-Key", c.apiKey()));
            LocalRuntimeE2EIT.assertProblem(r, 503);
            assertThat(r.header("Retry-After")).isEqualTo("5");
        }
        Reply ready = health.get("/health/ready", Map.of());
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.json().get("status").asText()).isEqualTo("down");
        assertThat(ready.header("Retry-After")).isNotBlank();

        long primed = load.acknowledged();
        load.start();
        ManagedProcess.sleep(3_000);
        assertThat(load.acknowledged() - primed).as("nothing acknowledged while neither SQS nor DynamoDB can take it").isZero();
        stack.restoreDynamo();
        stack.restoreSqs();
        ManagedProcess.sleep(3_000);

        ChaosStack.Verdict verdict = finish(load, "SQS and DynamoDB down");
        assertThat(verdict.acknowledged()).isPositive();
        assertThat(plain.stream().mapToLong(c -> load.tallies().get(c.clientId()).unacknowledged()).sum())
                .as("unkeyed requests refused during the outage").isPositive();
        assertThat(verdict.violations()).isEmpty();
        Map<String, Long> counts = stack.counts();
        plain.forEach(c -> assertThat(counts.getOrDefault(c.clientId(), 0L))
                .as("a refused request of %s is not counted", c.clientId())
                .isEqualTo(load.tallies().get(c.clientId()).acknowledged()));
    }

    @Test
    void consumerKilledMidRunRedeliversAndCountsEachHitOnce() throws Exception {
        LoadGenerator load = load("esm-kill", 2, 2);
        for (int i = 0; i < 3; i++) {
            ManagedProcess.sleep(1_500);
            stack.killConsumer();
            ManagedProcess.sleep(1_000);
            assertThat(readyDuringFault(200).at("/components/consumer/status").asText()).isEqualTo("down");
            stack.startConsumer();
        }
        ManagedProcess.sleep(1_500);

        ChaosStack.Verdict verdict = finish(load, "consumer killed 3 times");
        assertThat(load.unacknowledged()).isZero();
        assertThat(verdict.violations()).isEmpty();
    }

    @Test
    void messagesDeadLetteredDuringALongOutageAreRedrivenAndCountedOnce() throws Exception {
        List<LoadGenerator.Client> plain = stack.register("dlq-plain", 2, false);
        LoadGenerator load = new LoadGenerator(stack.baseUrl(), plain, new LoadGenerator.Options(2, 40, 1_000,
                Duration.ofMillis(50), 11)).prime();
        stack.settle(Duration.ofSeconds(30));
        stack.cutDynamo();
        load.start().join(Duration.ofSeconds(60));
        assertThat(load.unacknowledged()).as("SQS takes every hit while DynamoDB is unreachable").isZero();
        // 1 s, 3 s, 3 s, 3 s of backoff: after the 5th failed receive SQS moves each message to the DLQ.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode ready = null;
        while (System.nanoTime() < deadline) {
            ready = health.get("/health/ready", Map.of()).json();
            if (ready.at("/components/sqs/metrics/queued").asLong() == 0 && ready.at("/components/sqs/metrics/in_flight").asLong() == 0
                    && ready.at("/components/sqs/metrics/dead_letters").asLong() > 0) break;
            ManagedProcess.sleep(500);
        }
        assertThat(ready.at("/components/sqs/metrics/dead_letters").asLong()).as(ready.toString()).isPositive();
        assertThat(ready.at("/components/sqs/status").asText()).isEqualTo("degraded");
        stack.restoreDynamo();

        // the documented way: scripts/redrive-dlq, pointed at this runtime's queues
        ProcessBuilder pb = new ProcessBuilder("bash", "scripts/redrive-dlq").directory(TestStack.PROJECT_ROOT.toFile())
                .redirectErrorStream(true);
        pb.environment().put("HITS_QUEUE_URL", stack.runtime().resource("HitsQueue"));
        pb.environment().put("HITS_DLQ_URL", stack.runtime().resource("HitsDeadLetterQueue"));
        pb.environment().put("AWS_ENDPOINT_URL_SQS", stack.runtime().emulators().orElseThrow().sqsEndpoint());
        pb.environment().put("AWS_ACCESS_KEY_ID", "local");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "local");
        pb.environment().put("AWS_REGION", Emulators.REGION);
        Process redrive = pb.start();
        String output = new String(redrive.getInputStream().readAllBytes());
        assertThat(redrive.waitFor()).as(output).isZero();
        assertThat(output).contains("redrive COMPLETED");
        System.out.println("scripts/redrive-dlq: " + output.strip().replace('\n', ' '));

        ChaosStack.Verdict verdict = finish(load, "DynamoDB down past maxReceiveCount, DLQ redriven");
        assertThat(verdict.violations()).isEmpty();
        assertThat(verdict.counted()).isEqualTo(load.acknowledged());
    }

    // --- helpers -------------------------------------------------------------------------------

    /** Clients half with an Idempotency-Key (retrying until acknowledged), half without; thousands of hits. */
    private static LoadGenerator load(String tag, int keyed, int plain) throws Exception {
        List<LoadGenerator.Client> clients = new ArrayList<>(stack.register(tag + "-key", keyed, true));
        clients.addAll(stack.register(tag + "-plain", plain, false));
        // ~1,000 hits/s for ~10 s: thousands of hits, yet a backlog moto drains within the test's budget
        return new LoadGenerator(stack.baseUrl(), clients, new LoadGenerator.Options(4, 60, 10_000,
                Duration.ofMillis(100), tag.hashCode())).prime().start();
    }

    private static JsonNode readyDuringFault(int expectedStatus) {
        Reply r = health.get("/health/ready", Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(expectedStatus);
        return r.json();
    }

    /** Stops the load, lets keyed requests finish their retries, waits for recovery, prints the books. */
    private static ChaosStack.Verdict finish(LoadGenerator load, String label) throws Exception {
        load.stop(Duration.ofSeconds(30));
        assertThat(load.finished()).isTrue();
        long redriven = stack.settle(Duration.ofSeconds(60));
        ChaosStack.Verdict verdict = stack.verify(load, redriven);
        System.out.println(verdict.line(label) + "  statuses " + load.statuses() + ", retries " + load.retries());
        assertThat(load.sent()).as("hits under load").isGreaterThanOrEqualTo(label.contains("DLQ") || label.contains(" and ") ? 200 : 1_000);
        assertThat(load.statuses().keySet()).as("only 202 and 503 + Retry-After").isSubsetOf(202, 503);
        return verdict;
    }
}
