package dev.usagetracker.ratelimit;

import java.util.List;

/**
 * The limiter's answer for one request: whether it may proceed and, per policy, what is left.
 *
 * @param policies  the limits that were applied (their quotas may be a container's share, see {@link FailureMode#LOCAL})
 * @param windows   per policy, in the same order; empty when nothing is known (Redis down, mode fail-open)
 * @param retryAfterMillis when refused: how long until the request could pass
 */
public record Decision(Outcome outcome, List<Limit> policies, List<WindowState> windows, long retryAfterMillis,
                       Source source) {

    public enum Outcome {
        ALLOWED,
        /** Over a quota: 429. */
        LIMITED,
        /** Redis is down and the mode is fail-closed: 503. */
        UNAVAILABLE
    }

    /** Who decided: the shared Redis counters, this container alone, or nobody (fail-open/closed). */
    public enum Source { REDIS, LOCAL, NONE }

    /** One policy after the request: units left, and when the oldest units counted leave the window. */
    public record WindowState(Limit limit, long remaining, long resetMillis, boolean exceeded) {}

    public Decision {
        policies = List.copyOf(policies);
        windows = List.copyOf(windows);
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOWED;
    }

    public List<String> exceededPolicies() {
        return windows.stream().filter(WindowState::exceeded).map(w -> w.limit().name()).toList();
    }
}
