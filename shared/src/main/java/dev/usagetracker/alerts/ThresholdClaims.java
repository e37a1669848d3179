package dev.usagetracker.alerts;

import java.time.Instant;
import java.time.YearMonth;

/**
 * The record that a (client, month, threshold) alert was raised: a conditional write, so of any number
 * of consumers, replays and races exactly one claim succeeds and raises the event.
 */
public interface ThresholdClaims {
    /** True if this call claimed it; false if it was claimed before. */
    boolean claim(String clientId, YearMonth month, int percent, long used, Instant at);

    /** The same, recording the monthly quota the threshold was reached against (for the AWS WebSocket fan-out). */
    default boolean claim(String clientId, YearMonth month, int percent, long used, long monthlyQuota, Instant at) {
        return claim(clientId, month, percent, used, at);
    }
}
