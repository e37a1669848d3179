package dev.usagetracker.ratelimit;

import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisScript;
import io.lettuce.core.ScriptOutputType;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The shared limiter: one Lua script per request ({@code EVALSHA}, one round trip) checks and consumes
 * every window of a subject atomically, so any number of containers together accept exactly the quota.
 * Keys: {@code <prefix>rl:{<subject>}:<window seconds>} ({@code ...:<dimension>:<window seconds>} for a
 * second dimension such as ingest hits); the hash tag keeps a subject's windows in one
 * cluster slot. Time is the Redis server's clock, one clock for all containers; tests pass their own.
 */
public final class RedisRateLimiter implements RateLimiter {
    static final RedisScript SCRIPT = RedisScript.resource(RedisRateLimiter.class, "sliding-window.lua");

    private final Redis redis;
    private final Optional<Clock> clock;

    public RedisRateLimiter(Redis redis) {
        this(redis, Optional.empty());
    }

    /** With a clock the script uses its time instead of the server's: for tests of window boundaries. */
    public RedisRateLimiter(Redis redis, Optional<Clock> clock) {
        this.redis = redis;
        this.clock = clock;
    }

    @Override
    public Decision acquire(String subject, List<Charge> charges) {
        return redis.await(submit(subject, charges));
    }

    /** Sends the check without waiting, so a handler can pipeline it with its other Redis commands. */
    public CompletableFuture<Decision> submit(String subject, List<Charge> charges) {
        List<Limit> limits = charges.stream().map(Charge::limit).toList();
        String[] keys = new String[charges.size()];
        String[] args = new String[1 + 4 * charges.size()];
        args[0] = Long.toString(clock.map(Clock::millis).orElse(-1L));
        for (int i = 0; i < charges.size(); i++) {
            Charge charge = charges.get(i);
            Limit limit = charge.limit();
            keys[i] = redis.key("rl", "{" + subject + "}", charge.stateKey());
            args[1 + 4 * i] = Long.toString(limit.quota());
            args[2 + 4 * i] = Long.toString(limit.windowMillis());
            args[3 + 4 * i] = Integer.toString(limit.slots());
            args[4 + 4 * i] = Long.toString(charge.cost());
        }
        CompletableFuture<List<Object>> reply = SCRIPT.run(redis, ScriptOutputType.MULTI, keys, args);
        return reply.thenApply(r -> decision(limits, r));
    }

    private static Decision decision(List<Limit> limits, List<Object> reply) {
        boolean allowed = ((Long) reply.get(0)) == 1L;
        List<Decision.WindowState> windows = new ArrayList<>(limits.size());
        long retryAfter = 0;
        for (int i = 0; i < limits.size(); i++) {
            long remaining = (Long) reply.get(2 + 3 * i);
            long reset = (Long) reply.get(3 + 3 * i);
            long retry = (Long) reply.get(4 + 3 * i);
            boolean exceeded = !allowed && retry != 0;
            windows.add(new Decision.WindowState(limits.get(i), remaining, reset, exceeded));
            if (exceeded) retryAfter = Math.max(retryAfter, retry < 0 ? limits.get(i).windowMillis() : retry);
        }
        return new Decision(allowed ? Decision.Outcome.ALLOWED : Decision.Outcome.LIMITED, limits, windows,
                retryAfter, Decision.Source.REDIS);
    }
}
