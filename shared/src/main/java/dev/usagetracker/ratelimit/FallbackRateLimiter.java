package dev.usagetracker.ratelimit;

import dev.usagetracker.redis.Redis;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Redis when it answers; otherwise what {@link FailureMode} says. The Redis client's circuit breaker
 * makes the switch cheap: once it is open, a request reaches the fallback without touching the network.
 * Without a Redis URL at all, the fallback is the limiter.
 */
public final class FallbackRateLimiter implements RateLimiter {
    private final Optional<RateLimiter> shared;
    private final LocalRateLimiter local;
    private final FailureMode mode;
    private final Duration retryWhenDown;

    public FallbackRateLimiter(Optional<RateLimiter> shared, LocalRateLimiter local, FailureMode mode, Duration retryWhenDown) {
        this.shared = shared;
        this.local = local;
        this.mode = mode;
        this.retryWhenDown = retryWhenDown;
    }

    @Override
    public Decision acquire(String subject, List<Limit> limits, int cost) {
        if (shared.isPresent()) {
            try {
                return shared.get().acquire(subject, limits, cost);
            } catch (Redis.UnavailableException down) {
                // the breaker logs its transitions; logging every request here would flood the log in an outage
            }
        }
        return switch (mode) {
            case LOCAL -> local.acquire(subject, limits, cost);
            case FAIL_OPEN -> new Decision(Decision.Outcome.ALLOWED, limits, List.of(), 0, Decision.Source.NONE);
            case FAIL_CLOSED -> new Decision(Decision.Outcome.UNAVAILABLE, limits, List.of(), retryWhenDown.toMillis(),
                    Decision.Source.NONE);
        };
    }
}
