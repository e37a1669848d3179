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
}
