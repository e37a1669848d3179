package dev.usagetracker.alerts;

/**
 * One {@code usage.threshold} event's data: {@code {"client_id","period":"2026-11","threshold":80,
 * "monthly_quota","used"}}; {@code used} is the month's count the detector saw when it claimed it.
 */
public record ThresholdAlert(String clientId, String period, int threshold, long monthlyQuota, long used) {}
