package dev.usagetracker.ratelimit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The limits of every route class, the plans that override them per client, and what to do when
 * Redis is down. Read once per container from the environment; a bad value fails the cold start
 * rather than silently running unlimited.
 *
 * <ul>
 *   <li>{@code RATE_LIMIT_INGEST}, {@code RATE_LIMIT_READ}: the default plan's requests, e.g. {@code 500/1m,1000/1h};
 *       {@code RATE_LIMIT_INGEST_HITS}: its hits cap ({@code 60000/1m}). Plans stored by the admin override them
 *       (see {@code dev.usagetracker.plans})</li>
 *   <li>{@code RATE_LIMIT_REGISTER}: per source IP</li>
 *   <li>{@code RATE_LIMIT_PLANS} (deprecated: it only seeds plans the admin has not stored): JSON, e.g. {@code {"pro":{"ingest":"5000/1m,100000/1h","read":"off"}}}; a
 *       client row's {@code plan} picks one, a class a plan leaves out keeps the default</li>
 *   <li>{@code RATE_LIMIT_MODE}: {@code local} (default), {@code fail-open} or {@code fail-closed}</li>
 *   <li>{@code RATE_LIMIT_EXPECTED_CONTAINERS}: how many containers share a quota when each limits on
 *       its own (mode {@code local}); 10 by default</li>
 * </ul>
 */
public record RateLimitSettings(Map<RouteClass, List<Limit>> defaults, Map<String, Map<RouteClass, List<Limit>>> plans,
                                FailureMode mode, int expectedContainers) {
    private static final Pattern PLAN_NAME = Pattern.compile("[a-z0-9_-]{1,32}");

    public RateLimitSettings {
        defaults = Map.copyOf(defaults);
        plans = Map.copyOf(plans);
        if (expectedContainers < 1) throw new IllegalArgumentException("RATE_LIMIT_EXPECTED_CONTAINERS must be at least 1");
    }

    public static RateLimitSettings from(Map<String, String> env) {
        Map<RouteClass, List<Limit>> defaults = new EnumMap<>(RouteClass.class);
        for (RouteClass c : RouteClass.values()) {
            String spec = env.get(c.variable());
            defaults.put(c, Limit.parse(c.wireName(), spec == null || spec.isBlank() ? c.defaults() : spec));
        }
        String mode = env.get("RATE_LIMIT_MODE");
        String containers = env.get("RATE_LIMIT_EXPECTED_CONTAINERS");
        return new RateLimitSettings(defaults, plans(env.get("RATE_LIMIT_PLANS")),
                mode == null || mode.isBlank() ? FailureMode.LOCAL : FailureMode.parse(mode),
                containers == null || containers.isBlank() ? 10 : Integer.parseInt(containers.trim()));
    }

    /** The limits a client on {@code plan} has for a route class; an unknown plan gets the defaults. */
    public List<Limit> limits(RouteClass routeClass, String plan) {
        Map<RouteClass, List<Limit>> overrides = plans.get(plan);
        if (overrides != null && overrides.containsKey(routeClass)) return overrides.get(routeClass);
        return defaults.get(routeClass);
    }

    /** How long the local fallback must remember a subject. */
    public Duration longestWindow() {
        return java.util.stream.Stream.concat(defaults.values().stream(), plans.values().stream().flatMap(p -> p.values().stream()))
                .flatMap(List::stream).map(Limit::window).max(Duration::compareTo).orElse(Duration.ofMinutes(1));
    }

    private static Map<String, Map<RouteClass, List<Limit>>> plans(String json) {
        if (json == null || json.isBlank()) return Map.of();
        Map<String, Map<String, String>> raw;
        try {
            raw = new ObjectMapper().readValue(json, new TypeReference<>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("RATE_LIMIT_PLANS must be a JSON object of plans, e.g. "
                    + "{\"pro\":{\"ingest\":\"5000/1m\"}}");
        }
        Map<String, Map<RouteClass, List<Limit>>> plans = new LinkedHashMap<>();
        raw.forEach((plan, classes) -> {
            if (!PLAN_NAME.matcher(plan).matches()) {
                throw new IllegalArgumentException("RATE_LIMIT_PLANS: plan names are [a-z0-9_-]{1,32}, not '" + plan + "'");
            }
            Map<RouteClass, List<Limit>> limits = new EnumMap<>(RouteClass.class);
            classes.forEach((name, spec) -> {
                RouteClass c = switch (name) {
                    case "ingest" -> RouteClass.INGEST;
                    case "read" -> RouteClass.READ;
                    case "ingest_hits" -> RouteClass.INGEST_HITS;
                    default -> throw new IllegalArgumentException("RATE_LIMIT_PLANS: plan " + plan
                            + " may set ingest and read, not '" + name + "'");
                };
                limits.put(c, Limit.parse(c.wireName(), spec));
            });
            plans.put(plan, Map.copyOf(limits));
        });
        return plans;
    }
}
