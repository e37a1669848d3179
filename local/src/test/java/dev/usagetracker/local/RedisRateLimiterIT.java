package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.TestClock;
import dev.usagetracker.ratelimit.Decision;
import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.LocalRateLimiter;
import dev.usagetracker.ratelimit.RateLimiter;
import dev.usagetracker.ratelimit.RedisRateLimiter;
import dev.usagetracker.ratelimit.SlidingWindowContract;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Lua script on a real redis-server: the same edge cases as the in-memory fallback, and the same answers. */
@ExtendWith(TestStack.Extension.class)
class RedisRateLimiterIT extends SlidingWindowContract {
    static Redis redis;

    @BeforeAll
    static void connect(TestStack stack) {
        redis = new Redis(stack.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "it-limiter:")));
    }

    @AfterAll
    static void close() {
        if (redis != null) redis.close();
    }

    @Override
    protected RateLimiter limiter(TestClock clock) {
        return new RedisRateLimiter(redis, Optional.of(clock));
    }

    @Test
    void redisAndTheFallbackGiveTheSameAnswersOnARandomWalk() {
        TestClock clock = new TestClock(Instant.parse("2026-11-25T10:00:00.250Z"));
        RateLimiter shared = new RedisRateLimiter(redis, Optional.of(clock));
        RateLimiter local = new LocalRateLimiter(clock, 1, Duration.ofHours(1));
        List<Limit> limits = List.of(new Limit("w-10s", 20, Duration.ofSeconds(10)), new Limit("w-1m", 80, Duration.ofMinutes(1)),
                new Limit("w-7s", 15, Duration.ofSeconds(7)));
        String subject = "walk:" + UUID.randomUUID();
        Random random = new Random(42);
        int allowed = 0;
        for (int step = 0; step < 400; step++) {
            clock.advance(Duration.ofMillis(random.nextInt(900)));
            int cost = 1 + random.nextInt(3);
            Decision r = shared.acquire(subject, limits, cost);
            Decision l = local.acquire(subject, limits, cost);
            assertThat(r.outcome()).as("step %d", step).isEqualTo(l.outcome());
            assertThat(r.windows()).as("step %d", step).isEqualTo(l.windows());
            assertThat(r.retryAfterMillis()).as("step %d", step).isEqualTo(l.retryAfterMillis());
            if (r.allowed()) allowed++;
        }
        assertThat(allowed).as("the walk exercised both answers").isBetween(50, 350);
    }

    @Test
    void onTheServersClockKeysExpireWithTheirWindow() {
        RateLimiter limiter = new RedisRateLimiter(redis);
        List<Limit> limits = List.of(new Limit("s-1m", 2, Duration.ofMinutes(1)), new Limit("s-1h", 100, Duration.ofHours(1)));
        String subject = "server-clock:" + UUID.randomUUID();
        assertThat(limiter.acquire(subject, limits, 1).allowed()).isTrue();
        assertThat(limiter.acquire(subject, limits, 1).allowed()).isTrue();
        Decision refused = limiter.acquire(subject, limits, 1);
        assertThat(refused.outcome()).isEqualTo(Decision.Outcome.LIMITED);
        assertThat(refused.retryAfterMillis()).isBetween(1L, 60_000L);
        Long minuteTtl = redis.call(c -> c.pttl("it-limiter:rl:{" + subject + "}:60"));
        Long hourTtl = redis.call(c -> c.pttl("it-limiter:rl:{" + subject + "}:3600"));
        assertThat(minuteTtl).isBetween(1L, 60_000L);
        assertThat(hourTtl).isBetween(60_001L, 3_600_000L);
    }
}
