package dev.usagetracker.ratelimit;

import dev.usagetracker.redis.Redis;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redis when it answers; otherwise what {@link FailureMode} says. The Redis client's circuit breaker
 * makes the switch cheap: once it is open, a request reaches the fallback without touching the network.
 * Without a Redis URL at all, the fallback is the limiter.
 */
public final class FallbackRateLimiter implements RateLimiter {
    private static final Logger LOG = LoggerFactory.getLogger(FallbackRateLimiter.class);
    private final Optional<RateLimiter> shared;
    private final LocalRateLimiter local;
    private final FailureMode mode;
    private final Duration retryWhenDown;
    /** Set while Redis fails, so an outage is logged once when it starts and once when it ends. */
    private final AtomicBoolean degraded = new AtomicBoolean();

    public FallbackRateLimiter(Optional<RateLimiter> shared, LocalRateLimiter local, FailureMode mode, Duration retryWhenDown) {
        this.shared = shared;
        this.local = local;
        this.mode = mode;
        this.retryWhenDown = retryWhenDown;
    }

    @Override
    public Decision acquire(String subject, List<Charge> charges) {
        List<Limit> limits = charges.stream().map(Charge::limit).toList();
        if (shared.isPresent()) {
            try {
                Decision decision = shared.get().acquire(subject, charges);
                if (degraded.compareAndSet(true, false)) LOG.warn("redis answers again; rate limits are shared again");
                return decision;
            } catch (Redis.UnavailableException down) {
                if (degraded.compareAndSet(false, true)) {
                    LOG.warn("redis unavailable ({}); rate limits now {}", down.getMessage(), mode.wireName());
                }
            }
        }
        return switch (mode) {
            case LOCAL -> local.acquire(subject, charges);
            case FAIL_OPEN -> new Decision(Decision.Outcome.ALLOWED, limits, List.of(), 0, Decision.Source.NONE);
            case FAIL_CLOSED -> new Decision(Decision.Outcome.UNAVAILABLE, limits, List.of(), retryWhenDown.toMillis(),
                    Decision.Source.NONE);
        };
    }
}
