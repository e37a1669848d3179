package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.cache.ResponseCache;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import dev.usagetracker.store.DynamoClientStore;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Random;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * A hit says what happened (DESIGN.md §2b): method, status and duration_ms go over HTTP, through SQS
 * and the consumer into the raw hit item; what the server would refuse is a 400 naming each field.
 */
@ExtendWith(TestStack.Extension.class)
class HitOutcomeIT {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String ADMIN_KEY = "outcome-admin-key-0123456789";
    static final String KEY_PREFIX = "hitoutcomeit:";
    static TestStack stack;
    static Redis redis;
    static DynamoClientStore clients;
    static Map<String, String> admin;
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of("REDIS_KEY_PREFIX", KEY_PREFIX,
                        "RateLimitIngest", "100000/1m", "RateLimitRead", "100000/1m", "RateLimitRegister", "1000/1m",
                        "REDIS_TIMEOUT_MS", "3000", "REDIS_CONNECT_TIMEOUT_MS", "5000", "PlanCacheSeconds", "1"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 20, 4, false, "outcome-"));
        api = new HttpJson(runtime.baseUrl());
        redis = new Redis(s.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", KEY_PREFIX)));
        clients = new DynamoClientStore(s.dynamo(), "outcome-ClientsTable", java.time.Clock.systemUTC());
        admin = Map.of("Authorization", "Bearer " + token(ADMIN_KEY));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (redis != null) redis.close();
    }

    @Test
    void theRawHitItemKeepsMethodStatusAndDurationAsSent() {
        String[] key = register("raw");
        List<Map<String, Object>> hits = List.of(
                hit("/api/users/:id", "get", 200, 12.5),
                hit("/api/users/:id", "POST", 503, 1500),
                hit("/api/users/:id", null, null, null));
        Reply batch = api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", key[1]));
        assertThat(batch.status()).as(batch.body()).isEqualTo(202);
        Reply single = api.post("/api/logs", hit("/one", "delete", 404, 0.25), Map.of("X-API-Key", key[1]));
        assertThat(single.status()).as(single.body()).isEqualTo(202);

        List<JsonNode> raw = new ArrayList<>();
        Await.until(Duration.ofSeconds(90), "4 raw hits", () -> {
            raw.clear();
            raw.addAll(rawHits(key[0]));
            return raw.size() == 4;
        });
        Map<String, String> byEndpointAndMethod = new LinkedHashMap<>();
        for (JsonNode h : raw) {
            byEndpointAndMethod.put(h.get("ep").asText() + " " + (h.has("m") ? h.get("m").asText() : "-"),
                    (h.has("s") ? h.get("s").asText() : "-") + " " + (h.has("d") ? h.get("d").asDouble() : "-"));
        }
        assertThat(byEndpointAndMethod).containsOnly(
                Map.entry("/api/users/:id GET", "200 12.5"),
                Map.entry("/api/users/:id POST", "503 1500.0"),
                Map.entry("/api/users/:id -", "- -"),
                Map.entry("/one DELETE", "404 0.25"));
    }

    @Test
    void whatTheServerWouldRefuseIsA400NamingEachField() {
        String[] key = register("bad");
        List<Map<String, Object>> hits = new ArrayList<>();
        hits.add(hit("/ok", "GET", 200, 1));
        hits.add(hit("/a", "G ET", 99, -1));
        hits.add(hit("/a", "ABCDEFGHIJKLMNOPQ", 600, 3_600_001));
        Map<String, Object> stringStatus = new LinkedHashMap<>(hit("/a", "GET", null, null));
        stringStatus.put("status", "200");
        stringStatus.put("duration_ms", "NaN");
        hits.add(stringStatus);
        Reply r = api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", key[1]));

        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        List<String> fields = new ArrayList<>();
        r.json().get("errors").forEach(e -> fields.add(e.get("field").asText()));
        assertThat(fields).containsExactly("hits[1].method", "hits[1].status", "hits[1].duration_ms",
                "hits[2].method", "hits[2].status", "hits[2].duration_ms", "hits[3].status", "hits[3].duration_ms");

        Reply huge = api.post("/api/logs", "application/json",
                "{\"ip\":\"203.0.113.9\",\"endpoint\":\"/a\",\"duration_ms\":1e400}", Map.of("X-API-Key", key[1]));
        assertThat(huge.status()).as(huge.body()).isEqualTo(400);
        assertThat(huge.json().get("errors").get(0).get("field").asText()).isEqualTo("duration_ms");
    }

    record Sent(String method, String template, List<Integer> statuses, List<Double> durations) {}

    /**
     * 2xx/4xx/5xx hits with durations over three routes and two days (yesterday's last minutes and today):
     * every row's statuses add up to its count and match what was sent, its percentiles are within the
     * stated 1 % of the exact values; the same numbers come back when the mirror is gone and each day is
     * rebuilt from the raw hits (a closed day from raw hits equals the live mirror).
     */
    @Test
    void statusesAddUpAndPercentilesHoldFromTheMirrorAndFromRawHitsAcrossMidnight() {
        String[] c = register("mix");
        Map<String, String> key = Map.of("X-API-Key", c[1]);
        String token = token(c[1]);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant lastMinuteOfYesterday = now.truncatedTo(ChronoUnit.DAYS).minusSeconds(30);
        Random random = new Random(7);
        Map<String, Sent> sent = new LinkedHashMap<>();
        List<Map<String, Object>> hits = new ArrayList<>();
        String[][] routes = {{"GET", "/api/users/:id/orders", "/api/users/{id}/orders"},
                {"POST", "/api/users/{id}/orders", "/api/users/{id}/orders"}, {"GET", "/api/items/<int:id>", "/api/items/{id}"}};
        int[] classes = {200, 201, 404, 503, 302};
        for (int i = 0; i < 600; i++) {
            String[] route = routes[i % 3];
            Integer status = i % 10 == 9 ? null : classes[random.nextInt(classes.length)];
            Double ms = i % 7 == 6 ? null : Math.round(Math.exp(Math.log(40) + random.nextGaussian()) * 1000) / 1000.0;
            Map<String, Object> hit = hit(route[1], route[0], status, ms);
            if (i % 4 == 0) hit.put("timestamp", lastMinuteOfYesterday.plusMillis(i).toString());
            hits.add(hit);
            Sent row = sent.computeIfAbsent(route[0] + " " + route[2], k -> new Sent(route[0], route[2], new ArrayList<>(), new ArrayList<>()));
            row.statuses().add(status);
            if (ms != null) row.durations().add(ms);
        }
        for (int from = 0; from < hits.size(); from += 100) {
            Reply r = api.post("/api/logs", Map.of("hits", hits.subList(from, from + 100)), key);
            assertThat(r.status()).as(r.body()).isEqualTo(202);
        }
        Await.until(Duration.ofSeconds(120), "600 hits counted", () -> dailyTotal(token, 2) == 600);

        JsonNode live = get("/api/usage/endpoints?days=2&group_by=method", token);
        assertRows(live, sent);
        JsonNode liveByEndpoint = get("/api/usage/endpoints?days=2", token);
        assertThat(liveByEndpoint.get("endpoints")).hasSize(2); // GET and POST of one route are one row by default
        for (JsonNode row : liveByEndpoint.get("endpoints")) {
            assertThat(row.has("method")).isFalse();
            assertStatusesAddUp(row);
        }
        assertThat(liveByEndpoint.get("endpoints").get(0).get("endpoint").asText()).isEqualTo("/api/users/{id}/orders");
        assertThat(liveByEndpoint.get("endpoints").get(0).get("count").asLong()).isEqualTo(400);

        // The mirror is lost: both days come back from the raw hits, with the very same numbers.
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        for (LocalDate day : List.of(today, today.minusDays(1))) {
            String mirrorKey = redis.key("endpoints", c[0], day.toString());
            assertThat(redis.<Long>call(cmd -> cmd.exists(mirrorKey))).as("the consumer mirrored " + day).isEqualTo(1L);
            redis.call(cmd -> cmd.del(mirrorKey));
        }
        redis.call(cmd -> cmd.incr(ResponseCache.versionKey(redis, "client:" + c[0])));
        JsonNode rebuilt = get("/api/usage/endpoints?days=2&group_by=method", token);
        assertThat(rebuilt.get("endpoints")).isEqualTo(live.get("endpoints"));
        assertThat(get("/api/usage/endpoints?days=2", token).get("endpoints")).isEqualTo(liveByEndpoint.get("endpoints"));

        // /hourly: every hour's statuses add up to its count, and the hours add up to what was sent
        JsonNode hourly = get("/api/usage/hourly?hours=48", token).get("clients").get(0);
        Map<String, Long> byClass = new HashMap<>();
        for (JsonNode hour : hourly.get("hours")) {
            assertStatusesAddUp(hour);
            hour.get("statuses").fields().forEachRemaining(e -> byClass.merge(e.getKey(), e.getValue().asLong(), Long::sum));
        }
        Map<String, Long> expected = new HashMap<>();
        sent.values().forEach(row -> row.statuses().forEach(st -> expected.merge(statusClass(st), 1L, Long::sum)));
        for (String cls : List.of("2xx", "3xx", "4xx", "5xx", "unknown")) expected.putIfAbsent(cls, 0L);
        assertThat(byClass).isEqualTo(expected);
    }

    @Test
    void oneRouteReportedInThreeFrameworksSyntaxesIsOneRow() {
        String[] c = register("routes");
        List<Map<String, Object>> hits = List.of(hit("/api/users/:id/orders", "GET", 200, 5),
                hit("/api/users/{id}/orders", "GET", 200, 6), hit("/api/users/<int:id>/orders", "GET", 500, 7),
                hit("/api/users/42/orders?page=2", "GET", 404, 8));
        assertThat(api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", c[1])).status()).isEqualTo(202);
        String token = token(c[1]);
        Await.until(Duration.ofSeconds(90), "4 hits counted", () -> dailyTotal(token, 1) == 4);

        JsonNode rows = get("/api/usage/endpoints?days=1&group_by=method", token).get("endpoints");
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("method").asText()).isEqualTo("GET");
        assertThat(rows.get(0).get("endpoint").asText()).isEqualTo("/api/users/{id}/orders");
        assertThat(rows.get(0).get("count").asLong()).isEqualTo(4);
        assertThat(rows.get(0).get("statuses").toString()).isEqualTo("{\"2xx\":2,\"3xx\":0,\"4xx\":1,\"5xx\":1,\"unknown\":0}");
    }

    /** quota_counts non_5xx: 100 hits of which 30 are 5xx use 70 of a quota of 70, and refuse comes at the 71st. */
    @Test
    void aNon5xxQuotaCountsOnlyWhatDidNotFailAndRefusesAtTheRightPoint() {
        Reply plan = api.put("/api/plans/ok-only", Map.of("monthly_quota", 70, "enforcement", "refuse",
                "quota_counts", "non_5xx"), admin);
        assertThat(plan.status()).as(plan.body()).isEqualTo(200);
        assertThat(plan.json().get("quota_counts").asText()).isEqualTo("non_5xx");
        String[] c = register("quota");
        clients.assignPlan(c[0], "ok-only");
        Map<String, String> key = Map.of("X-API-Key", c[1]);
        String token = token(c[1]);

        List<Map<String, Object>> hits = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Integer status = i % 10 < 3 ? Integer.valueOf(500 + i % 4) : i % 2 == 0 ? Integer.valueOf(200) : null; // null counts
            hits.add(hit("/q/" + i, "GET", status, 1.5));
        }
        Reply first = api.post("/api/logs", Map.of("hits", hits), key);
        assertThat(first.status()).as("70 counted hits fit a quota of 70: " + first.body()).isEqualTo(202);
        Await.until(Duration.ofSeconds(90), "used 70", () -> get("/api/usage/quota", token).get("used").asLong() == 70);
        JsonNode quota = get("/api/usage/quota", token);
        assertThat(quota.get("remaining").asLong()).isZero();
        assertThat(quota.get("quota_counts").asText()).isEqualTo("non_5xx");
        assertThat(dailyTotal(token, 1)).as("/daily counts every hit").isEqualTo(100);

        Reply serverErrors = api.post("/api/logs", Map.of("hits", List.of(hit("/q/x", "GET", 502, 1), hit("/q/y", "GET", 599, 1))), key);
        assertThat(serverErrors.status()).as("5xx hits do not count: " + serverErrors.body()).isEqualTo(202);
        Reply over = api.post("/api/logs", hit("/q/z", "GET", 200, 1), key);
        assertThat(over.status()).as(over.body()).isEqualTo(429);
        assertThat(over.json().get("type").asText()).endsWith("/quota-exceeded");
        Reply unknown = api.post("/api/logs", hit("/q/u", null, null, null), key);
        assertThat(unknown.status()).as("an unknown status counts").isEqualTo(429);
        Await.until(Duration.ofSeconds(90), "102 hits counted", () -> dailyTotal(token, 1) == 102);
        assertThat(get("/api/usage/quota", token).get("used").asLong()).isEqualTo(70);
    }

    static void assertRows(JsonNode report, Map<String, Sent> sent) {
        long total = 0;
        for (JsonNode row : report.get("endpoints")) {
            Sent s = sent.get(row.get("method").asText() + " " + row.get("endpoint").asText());
            assertThat(s).as(row.toString()).isNotNull();
            assertThat(row.get("count").asLong()).isEqualTo(s.statuses().size());
            assertStatusesAddUp(row);
            Map<String, Long> expected = new HashMap<>();
            s.statuses().forEach(st -> expected.merge(statusClass(st), 1L, Long::sum));
            for (String cls : List.of("2xx", "3xx", "4xx", "5xx", "unknown")) {
                assertThat(row.get("statuses").get(cls).asLong()).as(cls).isEqualTo(expected.getOrDefault(cls, 0L));
            }
            double[] exact = s.durations().stream().mapToDouble(Double::doubleValue).sorted().toArray();
            for (String q : List.of("p50", "p95", "p99")) {
                double quantile = Integer.parseInt(q.substring(1)) / 100.0;
                double truth = exact[(int) Math.floor(quantile * (exact.length - 1))];
                double estimate = row.get("duration_ms").get(q).asDouble();
                System.out.printf("%s %s %s: exact %.3f ms, sketch %.3f ms, error %.3f %%%n", s.method(), s.template(), q,
                        truth, estimate, 100 * Math.abs(estimate - truth) / truth);
                assertThat(Math.abs(estimate - truth) / truth).as(q).isLessThanOrEqualTo(0.0101);
            }
            total += row.get("count").asLong();
        }
        assertThat(total + report.get("other").asLong()).isEqualTo(report.get("total").asLong()).isEqualTo(600);
    }

    static void assertStatusesAddUp(JsonNode row) {
        long sum = 0;
        for (String cls : List.of("2xx", "3xx", "4xx", "5xx", "unknown")) sum += row.get("statuses").get(cls).asLong();
        assertThat(sum).as(row.toString()).isEqualTo(row.get("count").asLong());
        assertThat(row.get("statuses")).hasSize(5);
    }

    static String statusClass(Integer status) {
        return status == null ? "unknown" : (status / 100) + "xx";
    }

    static JsonNode get(String path, String token) {
        Reply r = api.get(path, Map.of("Authorization", "Bearer " + token));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    static long dailyTotal(String token, int days) {
        return get("/api/usage/daily?days=" + days, token).get("clients").get(0).get("total").asLong();
    }

    static String token(String apiKey) {
        Reply r = api.post("/api/token", "application/json", "", Map.of("X-API-Key", apiKey));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("access_token").asText();
    }

    static Map<String, Object> hit(String endpoint, String method, Integer status, Number durationMs) {
        Map<String, Object> hit = new LinkedHashMap<>();
        hit.put("ip", "203.0.113.9");
        hit.put("endpoint", endpoint);
        if (method != null) hit.put("method", method);
        if (status != null) hit.put("status", status);
        if (durationMs != null) hit.put("duration_ms", durationMs);
        return hit;
    }

    /** {client_id, api_key} of a new client. */
    static String[] register(String label) {
        String id = label + "-" + UUID.randomUUID().toString().substring(0, 8);
        Reply r = api.post("/api/register", Map.of("name", "Outcome " + label, "email", id + "@example.com",
                "client_id", id), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return new String[] {id, r.json().get("api_key").asText()};
    }

    static List<JsonNode> rawHits(String clientId) {
        return UsageTrackingFilterIT.rawHitNodes(stack, runtime, clientId);
    }
}
