package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.local.HttpJson.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DESIGN.md §5, limits row: a redis-server of this test's own is killed mid-run under three runtimes,
 * one per RATE_LIMIT_MODE, then started again. local → each container enforces its share of the quota;
 * fail-open → everything passes; fail-closed → 503; and all three return to the shared limits.
 */
@ExtendWith(TestStack.Extension.class)
class RedisOutageIT {
    static final String PREFIX = "rl-out-";
    static final String ADMIN_KEY = "rl-out-admin-key-0123456789";

    @Test
    void eachModeDoesWhatItSaysWhileRedisIsDownAndRecovers(TestStack stack) throws Exception {
        int port = ManagedProcess.freePort();
        Path logs = TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/outage");
        ManagedProcess redis = RedisResilienceIT.startRedis(port, logs);
        Map<String, LocalRuntime> runtimes = new LinkedHashMap<>();
        try {
            for (String mode : new String[] {"local", "fail-open", "fail-closed"}) {
                runtimes.put(mode, start(stack, port, mode));
            }
            Map<String, HttpJson> apis = new HashMap<>();
            Map<String, Map<String, String>> keys = new HashMap<>();
            for (var e : runtimes.entrySet()) {
                HttpJson api = new HttpJson(e.getValue().baseUrl());
                apis.put(e.getKey(), api);
                String id = e.getKey() + "-" + UUID.randomUUID().toString().substring(0, 8);
                Reply r = api.post("/api/register", Map.of("name", id, "email", id + "@example.com", "client_id", id), Map.of());
                assertThat(r.status()).as(r.body()).isEqualTo(201);
                keys.put(e.getKey(), Map.of("X-API-Key", r.json().get("api_key").asText()));
                // Redis decides while it is up: the whole quota of 10, shared
                assertThat(hit(api, keys.get(e.getKey())).header("RateLimit")).startsWith("\"ingest-1h\";r=9;");
                assertThat(hit(api, keys.get(e.getKey())).header("RateLimit")).startsWith("\"ingest-1h\";r=8;");
            }

            redis.kill();

            // local: this single container enforces its share, 10 / 2 expected containers = 5, from scratch
            int accepted = 0;
            Reply r;
            while ((r = hit(apis.get("local"), keys.get("local"))).status() == 202) {
                accepted++;
                assertThat(r.header("RateLimit-Policy")).isEqualTo("\"ingest-1h\";q=5;w=3600,\"ingest_hits-1m\";q=30000;w=60");
                assertThat(accepted).isLessThanOrEqualTo(5);
            }
            assertThat(accepted).isEqualTo(5);
            assertThat(r.status()).isEqualTo(429);
            assertThat(r.header("Retry-After")).isNotNull();

            // fail-open: no limit at all, and no claim about what is left
            for (int i = 0; i < 12; i++) {
                Reply open = hit(apis.get("fail-open"), keys.get("fail-open"));
                assertThat(open.status()).isEqualTo(202);
                assertThat(open.header("RateLimit-Policy")).isEqualTo("\"ingest-1h\";q=10;w=3600,\"ingest_hits-1m\";q=60000;w=60");
                assertThat(open.header("RateLimit")).isNull();
            }

            // fail-closed: refused as unavailable, nothing recorded
            Reply closed = hit(apis.get("fail-closed"), keys.get("fail-closed"));
            assertThat(closed.status()).isEqualTo(503);
            assertThat(closed.header("Content-Type")).isEqualTo("application/problem+json");
            assertThat(closed.header("Retry-After")).isEqualTo("1");

            redis = RedisResilienceIT.startRedis(port, logs);

            // back to Redis (a fresh, empty one): the shared quota of 10 again
            Predicate<Reply> shared = x -> x.status() == 202
                    && "\"ingest-1h\";q=10;w=3600,\"ingest_hits-1m\";q=60000;w=60".equals(x.header("RateLimit-Policy"))
                    && x.header("RateLimit") != null;
            for (String mode : runtimes.keySet()) {
                Reply back = awaitHit(apis.get(mode), keys.get(mode), shared);
                assertThat(back.header("RateLimit")).as(mode).startsWith("\"ingest-1h\";r=9;");
            }
        } finally {
            runtimes.values().forEach(LocalRuntime::close);
            redis.close();
        }
    }

    private static LocalRuntime start(TestStack stack, int redisPort, String mode) throws Exception {
        return LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of(
                        "Stage", "rl-out",
                        "RedisUrl", "redis://127.0.0.1:" + redisPort,
                        "RateLimitIngest", "10/1h",
                        "RateLimitMode", mode,
                        "RateLimitExpectedContainers", "2",
                        "REDIS_BREAKER_OPEN_SECONDS", "1",
                        "REDIS_TIMEOUT_MS", "1000"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)),
                // one container per function, so "this container's share" is the whole story
                30, 1, false, PREFIX));
    }

    private static Reply hit(HttpJson api, Map<String, String> auth) {
        return api.post("/api/logs", Map.of("ip", "192.0.2.10", "endpoint", "/outage"), auth);
    }

    private static Reply awaitHit(HttpJson api, Map<String, String> auth, Predicate<Reply> done) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Reply last = null;
        while (System.nanoTime() < deadline) {
            last = hit(api, auth);
            if (done.test(last)) return last;
            ManagedProcess.sleep(200);
        }
        throw new AssertionError("never back on Redis: " + last.status() + " " + last.headers());
    }
}
