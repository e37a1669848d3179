package dev.usagetracker.alerts;

import java.util.List;

/**
 * A client's monthly quota and the percentages of it that raise a {@code usage.threshold} alert. The
 * plans capability owns the real answer (the client's plan from the plan catalog); this interface keeps
 * alert detection independent of where plans live.
 */
public interface AlertPolicy {

    /** {@code monthlyQuota} null: no quota, so no alerts; {@code thresholds} ascending percents (1..1000). */
    /** {@code excludeServerErrors}: the quota counts only hits whose status was not 5xx (quota_counts non_5xx). */
    record Quota(Long monthlyQuota, List<Integer> thresholds, boolean excludeServerErrors) {
        public static final Quota NONE = new Quota(null, List.of());

        public Quota(Long monthlyQuota, List<Integer> thresholds) {
            this(monthlyQuota, thresholds, false);
        }

        public boolean alerts() {
            return monthlyQuota != null && monthlyQuota > 0 && !thresholds.isEmpty();
        }

        /** The usage at which {@code percent} is reached: the smallest count ≥ quota × percent / 100. */
        public long usageFor(int percent) {
            return Math.max(1, (monthlyQuota * percent + 99) / 100);
        }
    }

    Quota quotaOf(String clientId);
}
