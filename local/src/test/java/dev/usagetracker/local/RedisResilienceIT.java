package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.RedisRateLimiter;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real redis-server of its own, killed mid-run: calls fail fast, the breaker opens so later calls
 * never touch the network, and everything comes back (scripts included) once Redis does.
 */
class RedisResilienceIT {
    private static final Path LOGS = TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/resilience");
    private final int port = ManagedProcess.freePort();
    private ManagedProcess server;
    private Redis redis;

    @BeforeEach
    void start() {
        server = startRedis(port, LOGS);
        redis = new Redis("redis://127.0.0.1:" + port, RedisSettings.from(Map.of(
                "REDIS_KEY_PREFIX", "it-resilience:", "REDIS_TIMEOUT_MS", "200", "REDIS_BREAKER_OPEN_SECONDS", "1")));
    }

    @AfterEach
    void stop() {
        redis.close();
        server.close();
    }

    static ManagedProcess startRedis(int port, Path logs) {
        return Emulators.redisServer(port, logs.resolve("redis-" + port + ".log"));
    }

    @Test
    void aDeadRedisOpensTheBreakerAndALiveOneClosesIt() {
        assertThat(ping()).isEqualTo("PONG");
        server.kill();

        int networkFailures = 0;
        Redis.UnavailableException last = null;
        for (int i = 0; i < 20 && (last == null || !last.breakerOpen()); i++) {
            try {
                ping();
            } catch (Redis.UnavailableException e) {
                last = e;
                if (!e.breakerOpen()) networkFailures++;
            }
        }
        assertThat(last).isNotNull();
        assertThat(last.breakerOpen()).as("the breaker opened").isTrue();
        assertThat(networkFailures).as("a few real failures opened it").isBetween(3, 10);
        assertThat(redis.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
        // open: refused without a network round trip, as many times as asked
        for (int i = 0; i < 1000; i++) {
            assertThatThrownBy(this::ping).isInstanceOfSatisfying(Redis.UnavailableException.class,
                    e -> assertThat(e.breakerOpen()).isTrue());
        }

        server = startRedis(port, LOGS);
        awaitRecovery();
        assertThat(ping()).as("the second half-open probe").isEqualTo("PONG");
        assertThat(redis.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void theLimiterScriptIsLoadedAgainAfterARestart() {
        RedisRateLimiter limiter = new RedisRateLimiter(redis);
        List<Limit> limits = List.of(new Limit("r-1m", 5, Duration.ofMinutes(1)));
        assertThat(limiter.acquire("restart", limits, 1).windows().getFirst().remaining()).isEqualTo(4);
        server.kill();
        server = startRedis(port, LOGS);
        awaitRecovery();
        // the restarted server has neither the counters nor the script: EVALSHA → NOSCRIPT → EVAL
        assertThat(limiter.acquire("restart", limits, 1).windows().getFirst().remaining()).isEqualTo(4);
        assertThat(limiter.acquire("restart", limits, 1).windows().getFirst().remaining()).isEqualTo(3);
    }

    private String ping() {
        return redis.call(c -> c.ping());
    }

    private void awaitRecovery() {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if ("PONG".equals(ping())) return;
            } catch (Redis.UnavailableException e) {
                ManagedProcess.sleep(100);
            }
        }
        throw new AssertionError("redis never came back; breaker " + redis.breakerState());
    }
}
