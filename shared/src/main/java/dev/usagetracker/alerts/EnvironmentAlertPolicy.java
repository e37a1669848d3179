package dev.usagetracker.alerts;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * STAND-IN until the plan catalog is merged: every client is on the default plan, whose quota and
 * thresholds come from {@code PLAN_DEFAULT_MONTHLY_QUOTA} (empty = no quota) and
 * {@code PLAN_DEFAULT_ALERT_THRESHOLDS} (default {@code 80,100}), the variables the plans capability
 * reads for plan {@code default}. The lead replaces it with an implementation over {@code PlanCatalog}.
 */
public final class EnvironmentAlertPolicy implements AlertPolicy {
    private final Quota quota;

    public EnvironmentAlertPolicy(Map<String, String> env) {
        this.quota = parse(env.getOrDefault("PLAN_DEFAULT_MONTHLY_QUOTA", ""),
                env.getOrDefault("PLAN_DEFAULT_ALERT_THRESHOLDS", "80,100"));
    }

    static Quota parse(String quota, String thresholds) {
        Long monthly = quota == null || quota.isBlank() ? null : Long.parseLong(quota.trim());
        if (monthly != null && monthly < 1) throw new IllegalArgumentException("PLAN_DEFAULT_MONTHLY_QUOTA must be positive");
        TreeSet<Integer> percents = new TreeSet<>();
        for (String p : (thresholds == null || thresholds.isBlank() ? "80,100" : thresholds).split(",")) {
            if (p.isBlank()) continue;
            int percent = Integer.parseInt(p.trim());
            if (percent < 1 || percent > 1000) {
                throw new IllegalArgumentException("PLAN_DEFAULT_ALERT_THRESHOLDS: percents are 1..1000, not " + percent);
            }
            percents.add(percent);
        }
        return new Quota(monthly, List.copyOf(new ArrayList<>(percents)));
    }

    @Override
    public Quota quotaOf(String clientId) {
        return quota;
    }
}
