package dev.usagetracker.ratelimit;

import java.util.List;

/**
 * Checks and consumes quota for one subject (a client and route class, or a source IP): every limit at
 * once, all or nothing. A refused request consumes nothing.
 */
public interface RateLimiter {
    /**
     * @param subject e.g. {@code ingest:acme-shop}; the limiter's state for it is shared by every container
     * @param cost    units this request consumes (a batch of n hits costs n), at most the smallest quota
     */
    default Decision acquire(String subject, List<Limit> limits, int cost) {
        return acquire(subject, Charge.of(limits, cost, ""));
    }

    /**
     * Checks and consumes every charge at once (all windows of all dimensions, or none). The decision's
     * policies and windows follow the order of {@code charges}.
     */
    Decision acquire(String subject, List<Charge> charges);
}
