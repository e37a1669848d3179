package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.usagetracker.App;
import dev.usagetracker.config.Config;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The versioned cache and the Redis counters against the real stack. DynamoDB traffic goes through a
 * counting proxy, so "no database request on the /top path" is measured, not assumed.
 */
@ExtendWith(TestStack.Extension.class)
class CachingIT {
    static final String ADMIN_KEY = "cache-admin-key-0123456789";
    static final String KEY_PREFIX = "cacheit:";
    static LocalRuntime runtime;
    static HttpJson api;
    static TestStack stack;
    static CountingProxy dynamoProxy;
    static Redis redis;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        dynamoProxy = new CountingProxy(URI.create(s.emulators().awsEndpoint()));
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of("REDIS_KEY_PREFIX", KEY_PREFIX,
                        "AWS_ENDPOINT_URL_DYNAMODB", dynamoProxy.url(),
                        // the prefetch runs once at start; a later run would add database reads to the count
                        "LOCAL_SCHEDULE_SECONDS", "3600"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(100)), 20, 4, false, "cache-"));
        api = new HttpJson(runtime.baseUrl());
        redis = new Redis(s.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", KEY_PREFIX)));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (dynamoProxy != null) dynamoProxy.close();
        if (redis != null) redis.close();
    }

    @Test
    void readAfterACommittedWriteNeverReturnsTheOldNumbers() {
        JsonNode client = register("reader");
        String key = client.get("api_key").asText();
        String token = token(key);

        Reply first = api.get("/api/usage/daily", bearer(token));
        assertThat(first.header("X-Cache")).isEqualTo("MISS");
        assertThat(total(first.json())).isZero();
        Reply second = api.get("/api/usage/daily", bearer(token));
        assertThat(second.header("X-Cache")).isEqualTo("HIT");
        assertThat(second.header("Age")).matches("\\d+");
        assertThat(second.body()).isEqualTo(first.body());

        assertThat(api.post("/api/logs", Map.of("hits", List.of(hit(), hit(), hit())), Map.of("X-API-Key", key)).status()).isEqualTo(202);
        // within one consumer cycle the new numbers are there, and never the old ones once they are
        JsonNode after = awaitTotal(token, 3);
        assertThat(total(after)).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            Reply again = api.get("/api/usage/daily", bearer(token));
            assertThat(total(again.json())).isEqualTo(3);
            assertThat(again.header("X-Cache")).isIn("HIT", "MISS");
        }
    }

    @Test
    void countersMirrorTheCommittedHitsAndComeBackAfterRedisLosesThem() {
        JsonNode client = register("counted");
        String key = client.get("api_key").asText();
        String id = client.get("client_id").asText();
        assertThat(api.post("/api/logs", Map.of("hits", List.of(hit(), hit(), hit(), hit())), Map.of("X-API-Key", key)).status()).isEqualTo(202);
        awaitTotal(token(key), 4);
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        String counter = KEY_PREFIX + "count:" + id + ":" + today;
        assertThat(counter(counter)).as("%s in %s", counter, redis.<List<String>>call(c -> c.keys("*"))).isEqualTo("4");

        // Redis loses everything under this prefix (a restart without persistence)
        List<String> keys = redis.<List<String>>call(c -> c.keys(KEY_PREFIX + "*"));
        redis.call(c -> c.del(keys.toArray(String[]::new)));
        assertThat(counter(counter)).isNull();

        // the scheduled prefetch rebuilds them from DynamoDB
        App app = new App(Config.from(withPrefix(runtime)), Clock.systemUTC());
        Map<String, Object> summary = app.usage().prefetch().run();
        assertThat(summary).containsKey("reconciled_hourly_counters");
        assertThat(counter(counter)).isEqualTo("4");
        JsonNode top = api.get("/api/usage/top?limit=10", bearer(token(ADMIN_KEY))).json();
        assertThat(top.toString()).contains(id);
        app.clients().redis().ifPresent(Redis::close);
    }

    @Test
    void topIsServedFromTheCacheWithoutDatabaseRequestsInSteadyState() {
        JsonNode client = register("ranked");
        String key = client.get("api_key").asText();
        assertThat(api.post("/api/logs", Map.of("hits", List.of(hit(), hit())), Map.of("X-API-Key", key)).status()).isEqualTo(202);
        awaitTotal(token(key), 2);
        String admin = token(ADMIN_KEY);
        api.get("/api/usage/top", bearer(admin)); // the authorizer caches the admin's client row

        dynamoProxy.reset();
        for (int i = 0; i < 5; i++) {
            Reply top = api.get("/api/usage/top?limit=" + (1 + i), bearer(admin));
            assertThat(top.status()).isEqualTo(200);
            assertThat(top.header("X-Cache")).isEqualTo("HIT");
            assertThat(top.json().get("top").size()).isLessThanOrEqualTo(1 + i);
        }
        assertThat(dynamoProxy.counts()).as("DynamoDB requests on the /top path").isEmpty();
        System.out.println("DynamoDB requests during 5 cached /top reads: " + dynamoProxy.counts());
    }

    // --- helpers -------------------------------------------------------------------------------

    static String counter(String key) {
        return redis.<String>call(c -> c.get(key));
    }

    static Map<String, String> withPrefix(LocalRuntime rt) {
        Map<String, String> env = new HashMap<>(stack.environment());
        env.put("REDIS_URL", stack.emulators().redisUrl());
        env.put("REDIS_KEY_PREFIX", KEY_PREFIX);
        env.put("USAGE_TABLE", "cache-UsageTable");
        env.put("CLIENTS_TABLE", "cache-ClientsTable");
        env.put("HITS_TABLE", "cache-HitsTable");
        return env;
    }

    static JsonNode register(String prefix) {
        return registerWith(api, prefix);
    }

    static JsonNode registerWith(HttpJson api, String prefix) {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Reply r = api.post("/api/register", Map.of("name", prefix + " " + suffix, "email", prefix + "-" + suffix + "@example.com",
                "client_id", prefix + "-" + suffix), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    static String token(String key) {
        return tokenWith(api, key);
    }

    static String tokenWith(HttpJson api, String key) {
        Reply r = api.post("/api/token", "application/json", "", Map.of("X-API-Key", key));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("access_token").asText();
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }

    static Map<String, String> hit() {
        return Map.of("ip", "192.0.2.10", "endpoint", "/cached");
    }

    static long total(JsonNode daily) {
        long sum = 0;
        for (JsonNode c : daily.get("clients")) sum += c.get("total").asLong();
        return sum;
    }

    static JsonNode awaitTotal(String token, long expected) {
        return awaitTotalWith(api, token, expected);
    }

    static JsonNode awaitTotalWith(HttpJson api, String token, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = api.get("/api/usage/daily", bearer(token)).json();
            if (total(last) == expected) return last;
            ManagedProcess.sleep(100);
        }
        throw new AssertionError("never reached " + expected + ": " + last);
    }

    /** Polls until the header has one of the values (e.g. the cache back after Redis restarts). */
    static Reply awaitHeader(HttpJson api, String token, String header, String... values) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Reply last = null;
        while (System.nanoTime() < deadline) {
            last = api.get("/api/usage/daily", bearer(token));
            if (last.status() == 200 && List.of(values).contains(last.header(header))) return last;
            ManagedProcess.sleep(250);
        }
        throw new AssertionError(header + " never became one of " + List.of(values) + ": " + (last == null ? null : last.body()));
    }

    /** Forwards HTTP to DynamoDB's endpoint and counts requests by operation (X-Amz-Target). */
    static final class CountingProxy implements AutoCloseable {
        private final HttpServer server;
        private final HttpClient client = HttpClient.newHttpClient();
        private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        /** Runs with the operation's name after DynamoDB answered and before the caller hears it. */
        volatile java.util.function.Consumer<String> afterForward = op -> { };

        CountingProxy(URI target) throws java.io.IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/", exchange -> {
                try (exchange) {
                    String op = exchange.getRequestHeaders().getFirst("X-Amz-Target");
                    counts.computeIfAbsent(op == null ? "?" : op.substring(op.indexOf('.') + 1), k -> new AtomicInteger()).incrementAndGet();
                    HttpRequest.Builder forward = HttpRequest.newBuilder(target.resolve(exchange.getRequestURI().toString()))
                            .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(exchange.getRequestBody().readAllBytes()));
                    exchange.getRequestHeaders().forEach((name, values) -> {
                        if (!List.of("host", "content-length", "connection", "expect").contains(name.toLowerCase())) {
                            values.forEach(v -> forward.header(name, v));
                        }
                    });
                    HttpResponse<byte[]> response = client.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
                    afterForward.accept(op == null ? "?" : op.substring(op.indexOf('.') + 1));
                    response.headers().map().forEach((name, values) -> {
                        if (!List.of("content-length", "transfer-encoding", "connection", ":status").contains(name.toLowerCase())) {
                            exchange.getResponseHeaders().put(name, values);
                        }
                    });
                    exchange.sendResponseHeaders(response.statusCode(), response.body().length == 0 ? -1 : response.body().length);
                    if (response.body().length > 0) {
                        try (OutputStream out = exchange.getResponseBody()) {
                            out.write(response.body());
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        void reset() {
            counts.clear();
        }

        Map<String, Integer> counts() {
            Map<String, Integer> snapshot = new HashMap<>();
            counts.forEach((k, v) -> snapshot.put(k, v.get()));
            return snapshot;
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
