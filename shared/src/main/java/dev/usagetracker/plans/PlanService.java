package dev.usagetracker.plans;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.RouteClass;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** PUT and GET /api/plans: the admin's plans, validated at the edge and merged over the default plan. */
public final class PlanService {
    static final Pattern NAME = Pattern.compile("[a-z0-9_-]{1,32}");
    private static final Set<String> FIELDS = Set.of("limits", "monthly_quota", "enforcement", "alert_thresholds",
            "quota_counts");
    private static final int MAX_THRESHOLDS = 10;

    private final PlanStore store;
    private final PlanCatalog catalog;
    private final PlanSettings settings;

    public PlanService(PlanStore store, PlanCatalog catalog, PlanSettings settings) {
        this.store = store;
        this.catalog = catalog;
        this.settings = settings;
    }

    static void requireAdmin(Principal caller) {
        if (!caller.isAdmin()) throw ApiException.forbidden("Plans are managed by the admin.");
    }

    /** Stores the plan: every field the body omits keeps the default plan's current value. */
    public Map<String, Object> put(Principal caller, String name, JsonNode body) {
        requireAdmin(caller);
        List<FieldError> errors = new ArrayList<>();
        if (name == null || !NAME.matcher(name).matches()) errors.add(new FieldError("name", "must match [a-z0-9_-]{1,32}"));
        if (body == null || !body.isObject()) {
            errors.add(new FieldError("body", "must be a JSON object"));
            throw ApiException.validation(errors);
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) errors.add(new FieldError(f, "unknown field"));
        }
        Plan base = current(Plan.DEFAULT);
        Map<RouteClass, List<Limit>> limits = new EnumMap<>(base.limits());
        JsonNode l = body.get("limits");
        if (l != null && !l.isNull()) {
            if (!l.isObject()) {
                errors.add(new FieldError("limits", "must be an object with ingest, ingest_hits and read"));
            } else {
                for (Iterator<Map.Entry<String, JsonNode>> it = l.fields(); it.hasNext(); ) {
                    var e = it.next();
                    RouteClass c = Plan.PLAN_CLASSES.stream().filter(p -> p.wireName().equals(e.getKey())).findFirst().orElse(null);
                    if (c == null) {
                        errors.add(new FieldError("limits." + e.getKey(), "unknown field; plans set ingest, ingest_hits and read"));
                    } else if (!e.getValue().isTextual()) {
                        errors.add(new FieldError("limits." + e.getKey(), "must be a string such as 500/1m,1000/1h"));
                    } else {
                        try {
                            limits.put(c, Limit.parse(c.wireName(), e.getValue().asText()));
                        } catch (IllegalArgumentException bad) {
                            errors.add(new FieldError("limits." + e.getKey(), "must be <count ≥ 1>/<n ≥ 1><s|m|h|d>, comma-separated "
                                    + "with distinct windows (e.g. 500/1m,1000/1h), or off"));
                        }
                    }
                }
            }
        }
        Long quota = base.monthlyQuota();
        if (body.has("monthly_quota")) {
            JsonNode q = body.get("monthly_quota");
            if (q.isNull()) quota = null;
            else if (!q.isIntegralNumber() || !q.canConvertToLong() || q.asLong() < 1 || q.asLong() > Plan.MAX_MONTHLY_QUOTA) {
                errors.add(new FieldError("monthly_quota", "must be an integer from 1 to 10^15, or null for no quota"));
            } else quota = q.asLong();
        }
        Enforcement enforcement = base.enforcement();
        if (body.has("enforcement")) {
            JsonNode en = body.get("enforcement");
            try {
                if (!en.isTextual()) throw new IllegalArgumentException();
                enforcement = Enforcement.parse(en.asText());
            } catch (IllegalArgumentException bad) {
                errors.add(new FieldError("enforcement", "must be report or refuse"));
            }
        }
        QuotaCounts quotaCounts = base.quotaCounts();
        if (body.has("quota_counts")) {
            JsonNode qc = body.get("quota_counts");
            try {
                if (!qc.isTextual()) throw new IllegalArgumentException();
                quotaCounts = QuotaCounts.parse(qc.asText());
            } catch (IllegalArgumentException bad) {
                errors.add(new FieldError("quota_counts", "must be all or non_5xx"));
            }
        }
        List<Integer> thresholds = base.alertThresholds();
        if (body.has("alert_thresholds")) {
            JsonNode t = body.get("alert_thresholds");
            if (!t.isArray() || t.size() > MAX_THRESHOLDS) {
                errors.add(new FieldError("alert_thresholds", "must be an array of at most " + MAX_THRESHOLDS + " percentages"));
            } else {
                TreeSet<Integer> set = new TreeSet<>();
                for (int i = 0; i < t.size(); i++) {
                    JsonNode p = t.get(i);
                    if (!p.isIntegralNumber() || !p.canConvertToInt() || p.asInt() < 1 || p.asInt() > 1000) {
                        errors.add(new FieldError("alert_thresholds[" + i + "]", "must be an integer percentage from 1 to 1000"));
                    } else set.add(p.asInt());
                }
                thresholds = List.copyOf(set);
            }
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        Plan plan = new Plan(name, limits, quota, enforcement, thresholds, quotaCounts);
        store.put(plan);
        if (catalog instanceof CachedPlanCatalog cached) cached.invalidate(name);
        return plan.toJson();
    }

    /** Every plan: the stored ones and those the environment still defines, by name, default first. */
    public Map<String, Object> list(Principal caller) {
        requireAdmin(caller);
        Map<String, Plan> all = new LinkedHashMap<>();
        for (String n : settings.names()) all.put(n, settings.fromEnvironment(n).orElseThrow());
        for (Plan p : store.list()) all.put(p.name(), p);
        List<Map<String, Object>> plans = new ArrayList<>();
        all.values().stream().sorted((a, b) -> Plan.DEFAULT.equals(a.name()) ? -1 : Plan.DEFAULT.equals(b.name()) ? 1
                : a.name().compareTo(b.name())).forEach(p -> plans.add(p.toJson()));
        return Map.of("plans", plans);
    }

    private Plan current(String name) {
        return store.find(name).or(() -> settings.fromEnvironment(name)).orElse(settings.defaultPlan());
    }
}
