package dev.usagetracker.plans;

import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.RouteClass;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A plan: the rate limits of its clients per route class (requests for {@code ingest} and {@code read},
 * hits for {@code ingest_hits}), its monthly hit quota ({@code null}: none), what happens over the
 * quota, the percentages of the quota that raise alerts, and which hits the quota counts.
 */
public record Plan(String name, Map<RouteClass, List<Limit>> limits, Long monthlyQuota, Enforcement enforcement,
                   List<Integer> alertThresholds, QuotaCounts quotaCounts) {
    public static final String DEFAULT = "default";
    /** The largest monthly quota a plan may set: far beyond any client, and × 1000 % still fits a long. */
    public static final long MAX_MONTHLY_QUOTA = 1_000_000_000_000_000L;
    /** The route classes a plan sets (registration is limited per source IP, not per plan). */
    public static final List<RouteClass> PLAN_CLASSES = List.of(RouteClass.INGEST, RouteClass.INGEST_HITS, RouteClass.READ);

    /** A plan whose quota counts every hit (the default). */
    public Plan(String name, Map<RouteClass, List<Limit>> limits, Long monthlyQuota, Enforcement enforcement,
                List<Integer> alertThresholds) {
        this(name, limits, monthlyQuota, enforcement, alertThresholds, QuotaCounts.ALL);
    }

    public Plan {
        if (quotaCounts == null) quotaCounts = QuotaCounts.ALL;
        Map<RouteClass, List<Limit>> copy = new EnumMap<>(RouteClass.class);
        limits.forEach((c, l) -> copy.put(c, List.copyOf(l)));
        limits = java.util.Collections.unmodifiableMap(copy);
        alertThresholds = List.copyOf(alertThresholds);
    }

    public List<Limit> limitsOf(RouteClass routeClass) {
        return limits.getOrDefault(routeClass, List.of());
    }

    /** The plan as the API shows it (DESIGN.md §2a). */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        Map<String, String> l = new LinkedHashMap<>();
        for (RouteClass c : PLAN_CLASSES) l.put(c.wireName(), Limit.spec(c.wireName(), limitsOf(c)));
        out.put("limits", l);
        out.put("monthly_quota", monthlyQuota);
        out.put("enforcement", enforcement.wireName());
        out.put("alert_thresholds", alertThresholds);
        out.put("quota_counts", quotaCounts.wireName());
        return out;
    }
}
