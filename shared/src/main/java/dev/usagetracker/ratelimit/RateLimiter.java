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
    Decision acquire(String subject, List<Limit> limits, int cost);
}
