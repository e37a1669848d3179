package dev.usagetracker.alerts;

import java.util.List;

/**
 * A client's monthly quota and the percentages of it that raise a {@code usage.threshold} alert. The
 * plans capability owns the real answer (the client's plan from the plan catalog); this interface keeps
 * alert detection independent of where plans live.
 */
public interface AlertPolicy {

    /** {@code monthlyQuota} null: no quota, so no alerts; {@code thresholds} ascending percents (1..1000). */
    /**
     * {@code excludeServerErrors}: the quota counts only hits whose status was not 5xx (quota_counts non_5xx).
     * {@code generation} tells one registration of a client id from the next (its creation time): an id
     * erased and registered again is a new client whose thresholds have not been reached.
     */
    record Quota(Long monthlyQuota, List<Integer> thresholds, boolean excludeServerErrors, String generation) {
        public static final Quota NONE = new Quota(null, List.of());

        public Quota(Long monthlyQuota, List<Integer> thresholds) {
            this(monthlyQuota, thresholds, false, "");
        }

        public boolean alerts() {
            return monthlyQuota != null && monthlyQuota > 0 && !thresholds.isEmpty();
        }

        /**
         * The usage at which {@code percent} is reached: the smallest count ≥ quota × percent / 100, computed
         * without overflow (a quota stored before plans were bounded could be near Long.MAX_VALUE: quota ×
         * percent wrapped negative and every threshold fired on the first hit); saturates at Long.MAX_VALUE.
         */
        public long usageFor(int percent) {
            long q = monthlyQuota;
            try {
                long whole = Math.multiplyExact(q / 100, (long) percent);
                return Math.max(1, Math.addExact(whole, ((q % 100) * percent + 99) / 100));
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
    }

    Quota quotaOf(String clientId);
}
