package dev.usagetracker.plans;

import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.RateLimitSettings;
import dev.usagetracker.ratelimit.RouteClass;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plans the environment gives until the admin stores its own: plan {@code default} from
 * {@code RATE_LIMIT_INGEST}, {@code RATE_LIMIT_INGEST_HITS}, {@code RATE_LIMIT_READ},
 * {@code PLAN_DEFAULT_MONTHLY_QUOTA} (empty: none), {@code PLAN_DEFAULT_ENFORCEMENT} ({@code report}) and
 * {@code PLAN_DEFAULT_ALERT_THRESHOLDS} ({@code 80,100}); the older {@code RATE_LIMIT_PLANS} JSON still
 * seeds named plans (the default plan's values with its limits over them) until a stored plan of the same
 * name replaces them. {@code PLAN_CACHE_SECONDS} (1..60, default 30) is how long a container keeps a plan.
 */
public record PlanSettings(Plan defaultPlan, Map<String, Plan> seeded, Duration cacheTtl) {

    public PlanSettings {
        seeded = Map.copyOf(seeded);
        if (cacheTtl.isNegative() || cacheTtl.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new IllegalArgumentException("PLAN_CACHE_SECONDS must be from 0 to 60");
        }
    }

    public static PlanSettings from(Map<String, String> env, RateLimitSettings rateLimits) {
        Map<RouteClass, List<Limit>> limits = new EnumMap<>(RouteClass.class);
        for (RouteClass c : Plan.PLAN_CLASSES) limits.put(c, rateLimits.defaults().get(c));
        String quota = env.getOrDefault("PLAN_DEFAULT_MONTHLY_QUOTA", "").trim();
        Long monthlyQuota = quota.isEmpty() ? null : Long.parseLong(quota);
        if (monthlyQuota != null && monthlyQuota < 1) throw new IllegalArgumentException("PLAN_DEFAULT_MONTHLY_QUOTA must be at least 1");
        String enforcement = env.getOrDefault("PLAN_DEFAULT_ENFORCEMENT", "").trim();
        String thresholds = env.getOrDefault("PLAN_DEFAULT_ALERT_THRESHOLDS", "").trim();
        List<Integer> alerts = Arrays.stream((thresholds.isEmpty() ? "80,100" : thresholds).split(","))
                .map(String::trim).filter(t -> !t.isEmpty()).map(Integer::parseInt).sorted().distinct().toList();
        for (int t : alerts) {
            if (t < 1 || t > 1000) throw new IllegalArgumentException("PLAN_DEFAULT_ALERT_THRESHOLDS: percentages are 1..1000");
        }
        Plan defaultPlan = new Plan(Plan.DEFAULT, limits, monthlyQuota,
                enforcement.isEmpty() ? Enforcement.REPORT : Enforcement.parse(enforcement), alerts);
        Map<String, Plan> seeded = new LinkedHashMap<>();
        rateLimits.plans().forEach((name, overrides) -> {
            Map<RouteClass, List<Limit>> l = new EnumMap<>(defaultPlan.limits());
            overrides.forEach((c, v) -> { if (Plan.PLAN_CLASSES.contains(c)) l.put(c, v); });
            seeded.put(name, new Plan(name, l, defaultPlan.monthlyQuota(), defaultPlan.enforcement(), defaultPlan.alertThresholds(),
                    defaultPlan.quotaCounts()));
        });
        String ttl = env.getOrDefault("PLAN_CACHE_SECONDS", "").trim();
        return new PlanSettings(defaultPlan, seeded, Duration.ofSeconds(ttl.isEmpty() ? 30 : Long.parseLong(ttl)));
    }

    /** The plan the environment defines under that name, if any. */
    public java.util.Optional<Plan> fromEnvironment(String name) {
        if (Plan.DEFAULT.equals(name)) return java.util.Optional.of(defaultPlan);
        return java.util.Optional.ofNullable(seeded.get(name));
    }

    /** Names the environment defines, default first. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        names.add(Plan.DEFAULT);
        seeded.keySet().stream().filter(n -> !n.equals(Plan.DEFAULT)).sorted().forEach(names::add);
        return names;
    }
}
