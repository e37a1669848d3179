package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.cache.ResponseCache;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Usage analytics through the real stack: hits posted over HTTP, counted by the consumer into
 * DynamoDB (moto) and the Redis mirror, read back from /hourly, /endpoints and /export.
 */
@ExtendWith(TestStack.Extension.class)
class AnalyticsIT {
    static final String ADMIN_KEY = "analytics-admin-key-0123456789";
    static final String KEY_PREFIX = "analyticsit:";
    static final Pattern NEXT = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"");
    static final ObjectMapper JSON = new ObjectMapper();
    static LocalRuntime runtime;
    static HttpJson api;
    static Redis redis;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("REDIS_KEY_PREFIX", KEY_PREFIX,
                        "RateLimitIngest", "100000/1m", "RateLimitRead", "100000/1m", "RateLimitRegister", "1000/1m"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 20, 4, false, "analytics-"));
        api = new HttpJson(runtime.baseUrl());
        redis = new Redis(stack.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", KEY_PREFIX)));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (redis != null) redis.close();
    }

    record Raw(String path, String template) {}

    /** 50 raw paths, 5 per template; the templates are written out here, not computed by the code under test. */
    static List<Raw> fiftyRawPaths() {
        List<Raw> raws = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            raws.add(new Raw("/api/users/" + (i * 1234) + "/orders?page=" + i, "/api/users/{id}/orders"));
            raws.add(new Raw("/api/items/" + UUID.nameUUIDFromBytes(new byte[] {(byte) i}), "/api/items/{id}"));
            raws.add(new Raw("/docs/64b7f0c2a1e4d93b8c7a6f5" + i, "/docs/{id}"));
            raws.add(new Raw("/t/Zx9_kQ2-pLmN4vB8rT" + "abcde".charAt(i - 1) + "/view", "/t/{id}/view"));
            raws.add(new Raw("/static/app.js#frag" + i, "/static/app.js"));
            raws.add(new Raw("/api/products?sort=" + i, "/api/products"));
            raws.add(new Raw("/api/v2/products/" + i + "#x", "/api/v2/products/{id}"));
            raws.add(new Raw(List.of("/health", "/health?x=1", "/health#a", "/health?y", "/health?z=2#q").get(i - 1), "/health"));
            raws.add(new Raw("/api/orders/" + i + "/lines/" + (i * 7), "/api/orders/{id}/lines/{id}"));
            raws.add(new Raw("/api/accounts/" + (4_000_000_000L + i) + "/" + UUID.nameUUIDFromBytes(new byte[] {(byte) (i + 9)}),
                    "/api/accounts/{id}/{id}"));
        }
        assertThat(raws.stream().map(Raw::path).distinct()).hasSize(50);
        return raws;
    }

    @Test
    void tenThousandHitsOverFiftyRawPathsCollapseToTemplatesWithExactCountsAndStayFresh() {
        Client c = newClient("endpoints");
        List<Raw> raws = fiftyRawPaths();
        Map<String, Long> expected = new HashMap<>();
        List<Map<String, String>> hits = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            Raw raw = raws.get(i < 9_000 ? i % 50 : (i * 7) % 5 * 10 + 1); // the last 1,000 skew towards /api/items
            expected.merge(raw.template(), 1L, Long::sum);
            hits.add(Map.of("ip", "198.51.100." + (i % 250), "endpoint", raw.path()));
        }
        for (int from = 0; from < hits.size(); from += 500) {
            assertAccepted(api.post("/api/logs", Map.of("hits", hits.subList(from, from + 500)), Map.of("X-API-Key", c.key)), 500);
        }
        awaitDailyTotal(c.token, 1, 10_000);

        Reply first = api.get("/api/usage/endpoints?days=1&limit=100", bearer(c.token));
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.header("X-Cache")).isEqualTo("MISS");
        JsonNode report = first.json();
        assertThat(endpoints(report)).isEqualTo(expected);
        assertThat(report.get("other").asLong()).isZero();
        assertThat(report.get("total").asLong()).isEqualTo(10_000);
        assertThat(report.get("client_id").asText()).isEqualTo(c.id);
        assertOrderedByCountThenEndpoint(report);
        assertThat(api.get("/api/usage/endpoints?days=1&limit=100", bearer(c.token)).header("X-Cache")).isEqualTo("HIT");

        // the limit: the top 3 listed, everything else in other, and the sum still the /daily total
        JsonNode top3 = get("/api/usage/endpoints?limit=3", c.token, 200);
        assertThat(top3.get("endpoints")).hasSize(3);
        assertThat(sum(top3) + top3.get("other").asLong()).isEqualTo(top3.get("total").asLong()).isEqualTo(dailyTotal(c.token, 7));

        // freshness: once /daily shows a new hit, /endpoints shows it too (the mirror is written right after the commit)
        assertAccepted(api.post("/api/logs", Map.of("hits", List.of(hit("/api/users/77/orders"), hit("/api/users/78/orders"),
                hit("/brand-new"))), Map.of("X-API-Key", c.key)), 3);
        awaitDailyTotal(c.token, 1, 10_003);
        JsonNode fresh = get("/api/usage/endpoints?days=1&limit=100", c.token, 200);
        expected.merge("/api/users/{id}/orders", 2L, Long::sum);
        expected.put("/brand-new", 1L);
        assertThat(endpoints(fresh)).isEqualTo(expected);
        assertThat(fresh.get("total").asLong()).isEqualTo(10_003);

        // Redis lost the mirror: the day is rebuilt from the raw hits, exactly, and kept again
        String mirrorKey = redis.key("endpoints", c.id, today().toString());
        assertThat(hget(mirrorKey, "#total")).isEqualTo("10003");
        redis.call(cmd -> cmd.del(mirrorKey));
        bumpCacheVersion(c.id);
        Reply rebuilt = api.get("/api/usage/endpoints?days=1&limit=100", bearer(c.token));
        assertThat(rebuilt.header("X-Cache")).isEqualTo("MISS");
        assertThat(endpoints(rebuilt.json())).isEqualTo(expected);
        assertThat(hget(mirrorKey, "#total")).isEqualTo("10003");
        assertThat(hget(mirrorKey, "/api/users/{id}/orders"))
                .isEqualTo(Long.toString(expected.get("/api/users/{id}/orders")));
    }

    @Test
    void templatesPastTheThousandthOfADayAreCountedInOther() {
        Client c = newClient("other");
        List<Map<String, String>> first = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) first.add(hit("/t/" + letters(i)));
        for (int from = 0; from < 1_000; from += 500) {
            assertAccepted(api.post("/api/logs", Map.of("hits", first.subList(from, from + 500)), Map.of("X-API-Key", c.key)), 500);
        }
        awaitDailyTotal(c.token, 1, 1_000); // the first thousand are committed before any later template
        List<Map<String, String>> later = new ArrayList<>();
        for (int i = 1_000; i < 1_100; i++) later.add(hit("/t/" + letters(i)));
        for (int i = 0; i < 50; i++) later.add(hit("/t/" + letters(0) + "?again=" + i));
        assertAccepted(api.post("/api/logs", Map.of("hits", later), Map.of("X-API-Key", c.key)), 150);
        awaitDailyTotal(c.token, 1, 1_150);

        JsonNode report = get("/api/usage/endpoints?days=1&limit=1", c.token, 200);
        assertThat(endpoints(report)).isEqualTo(Map.of("/t/" + letters(0), 51L));
        assertThat(report.get("other").asLong()).isEqualTo(1_099);
        assertThat(report.get("total").asLong()).isEqualTo(1_150);
        String mirrorKey = redis.key("endpoints", c.id, today().toString());
        assertThat(hlen(mirrorKey)).isEqualTo(1_003L); // 1,000 templates, #other, #total, #rows (no status, no duration)
        assertThat(hget(mirrorKey, "#rows")).isEqualTo("1000");
        assertThat(hget(mirrorKey, "#other")).isEqualTo("100");
        assertThat(hget(mirrorKey, "/t/" + letters(1_050))).isNull();

        // rebuilt from raw hits in arrival order: the same thousand names, the same other
        redis.call(cmd -> cmd.del(mirrorKey));
        bumpCacheVersion(c.id);
        JsonNode rebuilt = get("/api/usage/endpoints?days=1&limit=100", c.token, 200);
        assertThat(rebuilt.get("total").asLong()).isEqualTo(1_150);
        assertThat(sum(rebuilt) + rebuilt.get("other").asLong()).isEqualTo(1_150);
        assertThat(hget(mirrorKey, "#other")).isEqualTo("100");
        assertThat(hlen(mirrorKey)).isEqualTo(1_003L);
    }

    @Test
    void hourlySeriesIsZeroFilledOldestFirstAcrossADayBoundary() {
        Client c = newClient("hourly");
        Instant now = Instant.now();
        Instant h30 = now.minus(30, ChronoUnit.HOURS);
        Instant h26 = now.minus(26, ChronoUnit.HOURS);
        List<Map<String, String>> hits = new ArrayList<>();
        for (int i = 0; i < 3; i++) hits.add(hitAt("/a", h30));
        for (int i = 0; i < 2; i++) hits.add(hitAt("/b", h26));
        hits.add(hitAt("/c", now));
        assertAccepted(api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", c.key)), 6);
        awaitDailyTotal(c.token, 3, 6);

        JsonNode report = get("/api/usage/hourly?hours=48", c.token, 200);
        JsonNode hours = report.get("clients").get(0).get("hours");
        assertThat(report.get("clients")).hasSize(1);
        assertThat(hours).hasSize(48);
        Instant last = Instant.parse(hours.get(47).get("hour").asText());
        assertThat(last).isEqualTo(Instant.parse(report.get("to").asText()).truncatedTo(ChronoUnit.HOURS));
        assertThat(report.get("from").asText()).isEqualTo(hours.get(0).get("hour").asText());
        Set<String> dates = new HashSet<>();
        Map<Instant, Long> byHour = new HashMap<>();
        for (int i = 0; i < 48; i++) {
            Instant h = Instant.parse(hours.get(i).get("hour").asText());
            assertThat(h).isEqualTo(last.minus(47 - i, ChronoUnit.HOURS));
            dates.add(h.toString().substring(0, 10));
            byHour.put(h, hours.get(i).get("count").asLong());
        }
        assertThat(dates).hasSizeGreaterThanOrEqualTo(2); // 48 hours always cross midnight
        Map<Instant, Long> nonZero = new HashMap<>();
        byHour.forEach((h, n) -> {
            if (n > 0) nonZero.put(h, n);
        });
        Map<Instant, Long> expected = new HashMap<>();
        expected.merge(h30.truncatedTo(ChronoUnit.HOURS), 3L, Long::sum);
        expected.merge(h26.truncatedTo(ChronoUnit.HOURS), 2L, Long::sum);
        if (!now.truncatedTo(ChronoUnit.HOURS).isBefore(last.minus(47, ChronoUnit.HOURS))) {
            expected.merge(now.truncatedTo(ChronoUnit.HOURS), 1L, Long::sum);
        }
        assertThat(nonZero).isEqualTo(expected);
        assertThat(report.get("clients").get(0).get("total").asLong()).isEqualTo(6);

        // admin without client_id: every client active in the window, this one with the same series
        String admin = token(ADMIN_KEY);
        JsonNode all = get("/api/usage/hourly?hours=48", admin, 200);
        JsonNode mine = null;
        for (JsonNode client : all.get("clients")) {
            assertThat(client.get("total").asLong()).isPositive();
            assertThat(client.get("hours")).hasSize(48);
            if (client.get("client_id").asText().equals(c.id)) mine = client;
        }
        assertThat(mine).isNotNull();
        // Across an hour boundary between the two requests the windows differ by an hour: ask again for this window.
        JsonNode sameWindow = Instant.parse(all.get("to").asText()).truncatedTo(ChronoUnit.HOURS).equals(last) ? hours
                : get("/api/usage/hourly?hours=48", c.token, 200).get("clients").get(0).get("hours");
        assertThat(mine.get("hours")).isEqualTo(sameWindow);
        assertThat(get("/api/usage/hourly?client_id=" + c.id, admin, 200).get("clients").get(0).get("hours")).hasSize(24);
    }

    @Test
    void exportOfThreeClientsOverThirtyDaysEqualsDailyPagedByLinkWithoutLossOrRepetition() {
        LocalDate today = today();
        List<Client> clients = List.of(newClient("exp-x"), newClient("exp-y"), newClient("exp-z"));
        Instant now = Instant.now();
        for (int c = 0; c < 3; c++) {
            List<Map<String, String>> hits = new ArrayList<>();
            for (int d = 0; d < 30; d++) {
                LocalDate day = today.minusDays(29 - d);
                Instant at = d == 29 ? now : day.atTime(12, 0).toInstant(ZoneOffset.UTC);
                for (int k = 0; k < 1 + (d + c) % 4; k++) hits.add(hitAt("/p/" + k, at));
            }
            assertAccepted(api.post("/api/logs", Map.of("hits", hits), Map.of("X-API-Key", clients.get(c).key)), hits.size());
        }
        Map<String, Map<String, Long>> daily = new HashMap<>();
        for (int c = 0; c < 3; c++) {
            int expectedTotal = 0;
            for (int d = 0; d < 30; d++) expectedTotal += 1 + (d + c) % 4;
            JsonNode report = awaitDailyTotal(clients.get(c).token, 30, expectedTotal);
            Map<String, Long> days = new LinkedHashMap<>();
            report.get("clients").get(0).get("days").forEach(d -> days.put(d.get("date").asText(), d.get("count").asLong()));
            assertThat(days).hasSize(30);
            daily.put(clients.get(c).id, days);
        }
        String admin = token(ADMIN_KEY);
        String query = "/api/usage/export?from=" + today.minusDays(29) + "&to=" + today + "&limit=7";

        List<List<String>> csvRows = new ArrayList<>();
        int pages = 0;
        String next = query;
        while (next != null) {
            Reply page = api.get(next, bearer(admin));
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            assertThat(page.header("Content-Type")).startsWith("text/csv");
            assertThat(page.header("Content-Disposition")).startsWith("attachment; filename=");
            String[] lines = page.body().split("\r\n", -1);
            assertThat(lines[0]).isEqualTo("client_id,date,count");
            assertThat(lines[lines.length - 1]).isEmpty(); // every record ends with CRLF
            for (int i = 1; i < lines.length - 1; i++) csvRows.add(List.of(lines[i].split(",", -1)));
            next = nextLink(page);
            pages++;
        }
        assertThat(pages).isGreaterThanOrEqualTo(13); // ≥ 90 rows at 7 a page
        Set<String> seen = new HashSet<>();
        for (List<String> row : csvRows) assertThat(seen.add(row.get(0) + "|" + row.get(1))).as("repeated %s", row).isTrue();
        for (Client c : clients) {
            Map<String, Long> exported = new LinkedHashMap<>();
            csvRows.stream().filter(r -> r.get(0).equals(c.id)).forEach(r -> exported.put(r.get(1), Long.parseLong(r.get(2))));
            assertThat(exported).as(c.id).isEqualTo(daily.get(c.id));
        }

        // NDJSON: the same rows, page by page
        List<List<String>> ndjsonRows = new ArrayList<>();
        next = query;
        while (next != null) {
            Reply page = api.get(next, Map.of("Authorization", "Bearer " + admin, "Accept", "application/x-ndjson"));
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            assertThat(page.header("Content-Type")).startsWith("application/x-ndjson");
            for (String line : page.body().split("\n")) {
                if (line.isEmpty()) continue;
                JsonNode row = readJson(line);
                ndjsonRows.add(List.of(row.get("client_id").asText(), row.get("date").asText(), row.get("count").asText()));
            }
            next = nextLink(page);
        }
        assertThat(ndjsonRows).isEqualTo(csvRows);

        // a client exports itself only, all in one page by default
        Client x = clients.get(0);
        Reply own = api.get("/api/usage/export?from=" + today.minusDays(29) + "&to=" + today, bearer(x.token));
        assertThat(own.status()).isEqualTo(200);
        assertThat(nextLink(own)).isNull();
        Map<String, Long> ownRows = new LinkedHashMap<>();
        String[] lines = own.body().split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",");
            assertThat(f[0]).isEqualTo(x.id);
            ownRows.put(f[1], Long.parseLong(f[2]));
        }
        assertThat(ownRows).isEqualTo(daily.get(x.id));

        // hourly granularity: the last 24 hours sum to /hourly's total
        Reply hourly = api.get("/api/usage/export?granularity=hour", bearer(x.token));
        assertThat(hourly.body()).startsWith("client_id,hour,count\r\n");
        long hourSum = 0;
        String[] hourLines = hourly.body().split("\r\n");
        assertThat(hourLines).hasSize(25);
        for (int i = 1; i < hourLines.length; i++) hourSum += Long.parseLong(hourLines[i].split(",")[2]);
        assertThat(hourSum).isEqualTo(get("/api/usage/hourly", x.token, 200).get("clients").get(0).get("total").asLong());

        // a cursor is bound to its query and its caller
        Reply firstPage = api.get(query, bearer(admin));
        String cursorPath = nextLink(firstPage);
        String cursor = cursorPath.substring(cursorPath.indexOf("cursor=") + 7).split("&")[0];
        assertProblem(api.get(query.replace("limit=7", "limit=8") + "&cursor=" + cursor, bearer(admin)), 400, "cursor");
        assertProblem(api.get(query + "&cursor=" + cursor, bearer(x.token)), 400, "cursor");
        assertProblem(api.get(query + "&cursor=" + cursor.substring(1), bearer(admin)), 400, "cursor");
        assertProblem(api.get(query + "&cursor=not-a-cursor", bearer(admin)), 400, "cursor");
    }

    @Test
    void badInputIsAProblemWithErrorsAndAnUnservableAcceptIs406() {
        Client c = newClient("errors");
        String admin = token(ADMIN_KEY);
        LocalDate today = today();
        assertProblem(api.get("/api/usage/hourly?hours=0", bearer(c.token)), 400, "hours");
        assertProblem(api.get("/api/usage/hourly?hours=73", bearer(c.token)), 400, "hours");
        assertProblem(api.get("/api/usage/endpoints?days=32", bearer(c.token)), 400, "days");
        assertProblem(api.get("/api/usage/endpoints?limit=101", bearer(c.token)), 400, "limit");
        assertProblem(api.get("/api/usage/endpoints", bearer(admin)), 400, "client_id");
        assertProblem(api.get("/api/usage/export?from=" + today + "&to=" + today.minusDays(1), bearer(c.token)), 400, "from");
        assertProblem(api.get("/api/usage/export?from=" + today.minusDays(92) + "&to=" + today, bearer(c.token)), 400, "to");
        assertProblem(api.get("/api/usage/export?granularity=hour&from=" + Instant.now().minus(72, ChronoUnit.HOURS)
                .truncatedTo(ChronoUnit.HOURS), bearer(c.token)), 400, "to");
        assertProblem(api.get("/api/usage/export?granularity=week", bearer(c.token)), 400, "granularity");
        assertProblem(api.get("/api/usage/export?from=yesterday", bearer(c.token)), 400, "from");
        Reply notAcceptable = api.get("/api/usage/export", Map.of("Authorization", "Bearer " + c.token, "Accept", "application/json"));
        assertThat(notAcceptable.status()).isEqualTo(406);
        assertThat(notAcceptable.header("Content-Type")).startsWith("application/problem+json");
        // a client sees only itself
        assertThat(api.get("/api/usage/endpoints?client_id=admin", bearer(c.token)).status()).isEqualTo(403);
        assertThat(api.get("/api/usage/hourly?client_id=admin", bearer(c.token)).status()).isEqualTo(403);
        assertThat(api.get("/api/usage/export?client_id=admin", bearer(c.token)).status()).isEqualTo(403);
        assertThat(api.get("/api/usage/hourly", Map.of()).status()).isEqualTo(401);
        assertThat(api.get("/api/usage/endpoints?client_id=no-such-client", bearer(admin)).status()).isEqualTo(404);
        // an admin may name any client
        assertThat(get("/api/usage/endpoints?client_id=" + c.id, admin, 200).get("total").asLong()).isZero();
    }

    // ---- helpers ----

    record Client(String id, String key, String token) {}

    static Client newClient(String label) {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Reply r = api.post("/api/register", Map.of("name", "Analytics " + label, "email", label + "-" + suffix + "@example.com",
                "client_id", label + "-" + suffix), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String key = r.json().get("api_key").asText();
        return new Client(r.json().get("client_id").asText(), key, token(key));
    }

    static String token(String apiKey) {
        Reply r = api.post("/api/token", "application/json", "", Map.of("X-API-Key", apiKey));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("access_token").asText();
    }

    static Map<String, String> hit(String endpoint) {
        return Map.of("ip", "203.0.113.9", "endpoint", endpoint);
    }

    static Map<String, String> hitAt(String endpoint, Instant at) {
        return Map.of("ip", "203.0.113.9", "endpoint", endpoint, "timestamp", at.truncatedTo(ChronoUnit.MILLIS).toString());
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }

    static void assertAccepted(Reply r, int n) {
        assertThat(r.status()).as(r.body()).isEqualTo(202);
        assertThat(r.json().get("accepted").asInt()).isEqualTo(n);
    }

    static JsonNode get(String path, String token, int status) {
        Reply r = api.get(path, bearer(token));
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return r.json();
    }

    static long dailyTotal(String token, int days) {
        return get("/api/usage/daily?days=" + days, token, 200).get("clients").get(0).get("total").asLong();
    }

    static JsonNode awaitDailyTotal(String token, int days, long total) {
        JsonNode[] last = new JsonNode[1];
        Await.until(Duration.ofSeconds(90), "daily total " + total, () -> {
            last[0] = get("/api/usage/daily?days=" + days, token, 200);
            return last[0].get("clients").get(0).get("total").asLong() == total;
        });
        return last[0];
    }

    static Map<String, Long> endpoints(JsonNode report) {
        Map<String, Long> out = new HashMap<>();
        report.get("endpoints").forEach(e -> out.put(e.get("endpoint").asText(), e.get("count").asLong()));
        return out;
    }

    static long sum(JsonNode report) {
        long s = 0;
        for (JsonNode e : report.get("endpoints")) s += e.get("count").asLong();
        return s;
    }

    static void assertOrderedByCountThenEndpoint(JsonNode report) {
        JsonNode list = report.get("endpoints");
        for (int i = 1; i < list.size(); i++) {
            long a = list.get(i - 1).get("count").asLong();
            long b = list.get(i).get("count").asLong();
            assertThat(a > b || (a == b && list.get(i - 1).get("endpoint").asText().compareTo(list.get(i).get("endpoint").asText()) < 0))
                    .as("order at %d", i).isTrue();
        }
    }

    static void assertProblem(Reply r, int status, String field) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        List<String> fields = new ArrayList<>();
        r.json().get("errors").forEach(e -> fields.add(e.get("field").asText()));
        assertThat(fields).contains(field);
    }

    static String nextLink(Reply page) {
        String link = page.header("Link");
        if (link == null) return null;
        Matcher m = NEXT.matcher(link);
        assertThat(m.find()).as(link).isTrue();
        return m.group(1);
    }

    static JsonNode readJson(String line) {
        try {
            return JSON.readTree(line);
        } catch (java.io.IOException e) {
            throw new AssertionError(line, e);
        }
    }

    static String hget(String key, String field) {
        String value = redis.call(cmd -> cmd.hget(key, field));
        return value;
    }

    static long hlen(String key) {
        Long n = redis.call(cmd -> cmd.hlen(key));
        return n;
    }

    static void bumpCacheVersion(String clientId) {
        redis.call(cmd -> cmd.incr(ResponseCache.versionKey(redis, "client:" + clientId)));
    }

    /** 0 → "aaa", 1 → "aab", …: distinct words with no digit, so never taken for ids. */
    static String letters(int i) {
        return "" + (char) ('a' + i / 676) + (char) ('a' + i / 26 % 26) + (char) ('a' + i % 26);
    }

    static LocalDate today() {
        return LocalDate.now(ZoneOffset.UTC);
    }
}
