package dev.usagetracker.ratelimit;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.RateLimitHeaders;
import dev.usagetracker.http.Responses;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What every limited route does between authentication and its service call: take the quota (or answer
 * 429 before any work), run the route, and put the rate-limit fields on whatever it answers, success or
 * problem. Handlers wrap their service call in {@link #forClient} or {@link #forSourceIp}.
 */
public final class RateLimitGuard {
    private final RateLimiter limiter;
    private final RateLimitSettings settings;
    private final dev.usagetracker.plans.PlanCatalog plans;
    private final java.util.Optional<dev.usagetracker.plans.QuotaGate> quotas;

    /** Plans from the environment only (RATE_LIMIT_* variables), no monthly quotas: for tests and tools. */
    public RateLimitGuard(RateLimiter limiter, RateLimitSettings settings) {
        this(limiter, settings, environmentPlans(settings), java.util.Optional.empty());
    }

    public RateLimitGuard(RateLimiter limiter, RateLimitSettings settings, dev.usagetracker.plans.PlanCatalog plans,
                          java.util.Optional<dev.usagetracker.plans.QuotaGate> quotas) {
        this.limiter = limiter;
        this.settings = settings;
        this.plans = plans;
        this.quotas = quotas;
    }

    private static dev.usagetracker.plans.PlanCatalog environmentPlans(RateLimitSettings settings) {
        var env = dev.usagetracker.plans.PlanSettings.from(java.util.Map.of(), settings);
        return new dev.usagetracker.plans.PlanCatalog() {
            @Override
            public dev.usagetracker.plans.Plan planOf(String planName) {
                return env.fromEnvironment(planName).orElse(env.defaultPlan());
            }

            @Override
            public boolean exists(String planName) {
                return env.fromEnvironment(planName).isPresent();
            }
        };
    }

    /**
     * Limits an authenticated caller by client id, with the limits of its plan. Every request costs 1 in
     * its route class; for {@link RouteClass#INGEST} {@code cost} is the request's number of hits, charged
     * to the {@code ingest_hits} cap in the same atomic step, and a plan with a refused monthly quota is
     * checked before the route runs.
     */
    public APIGatewayV2HTTPResponse forClient(Principal caller, RouteClass routeClass, int cost,
                                              Supplier<APIGatewayV2HTTPResponse> route) {
        return forClient(caller, routeClass, cost, quotas.map(q -> q.currentMonth(cost)).orElse(Map.of()), Map.of(), route);
    }

    /**
     * Ingest with the request's hits counted per calendar month of their own timestamps (UTC): a plan
     * with a refused monthly quota checks each of those months, since that is where the hits count;
     * {@code serverErrorsByMonth} of them have a 5xx status (see {@link dev.usagetracker.plans.QuotaGate}).
     */
    public APIGatewayV2HTTPResponse forIngest(Principal caller, Map<java.time.YearMonth, Long> hitsByMonth,
                                              Map<java.time.YearMonth, Long> serverErrorsByMonth,
                                              Supplier<APIGatewayV2HTTPResponse> route) {
        int cost = (int) hitsByMonth.values().stream().mapToLong(Long::longValue).sum();
        return forClient(caller, RouteClass.INGEST, cost, hitsByMonth, serverErrorsByMonth, route);
    }

    private APIGatewayV2HTTPResponse forClient(Principal caller, RouteClass routeClass, int cost,
                                               Map<java.time.YearMonth, Long> hitsByMonth,
                                               Map<java.time.YearMonth, Long> serverErrorsByMonth,
                                               Supplier<APIGatewayV2HTTPResponse> route) {
        dev.usagetracker.plans.Plan plan = plans.planOf(caller.plan());
        List<Charge> charges = new java.util.ArrayList<>();
        if (routeClass == RouteClass.INGEST) {
            charges.addAll(Charge.of(plan.limitsOf(RouteClass.INGEST), 1, ""));
            charges.addAll(Charge.of(plan.limitsOf(RouteClass.INGEST_HITS), Math.max(1, cost), "hits"));
            Supplier<APIGatewayV2HTTPResponse> metered = quotas.isEmpty() ? route : () -> {
                quotas.get().check(caller, plan, hitsByMonth, serverErrorsByMonth);
                return route.get();
            };
            return guard(routeClass.wireName() + ":" + caller.clientId(), charges, metered);
        }
        charges.addAll(Charge.of(plan.limitsOf(routeClass), cost, ""));
        return guard(routeClass.wireName() + ":" + caller.clientId(), charges, route);
    }

    /** Limits an anonymous route (registration) by the source IP API Gateway saw, never a client-sent header. */
    public APIGatewayV2HTTPResponse forSourceIp(HttpRequest request, RouteClass routeClass,
                                                Supplier<APIGatewayV2HTTPResponse> route) {
        String ip = request.sourceIp() == null || request.sourceIp().isBlank() ? "unknown" : request.sourceIp();
        return guard(routeClass.wireName() + ":" + ip, Charge.of(settings.defaults().get(routeClass), 1, ""), route);
    }

    private APIGatewayV2HTTPResponse guard(String subject, List<Charge> charges, Supplier<APIGatewayV2HTTPResponse> route) {
        if (charges.isEmpty()) return route.get();
        List<Limit> limits = charges.stream().map(Charge::limit).toList();
        for (Charge c : charges) {
            if (c.cost() > c.limit().quota()) {
                // Waiting would not help: say so, rather than 429 with a Retry-After that never comes true.
                throw ApiException.badRequest("This request needs " + c.cost() + " units but the " + c.limit().name()
                        + " policy allows " + c.limit().quota() + " per " + c.limit().windowSeconds() + " s; send smaller batches.")
                        .withHeaders(RateLimitHeaders.of(policies(limits), List.of()));
            }
        }
        Decision decision = limiter.acquire(subject, charges);
        Map<String, String> headers = RateLimitHeaders.of(policies(decision.policies()), decision.windows().stream()
                        .map(w -> new RateLimitHeaders.State(w.limit().name(), w.remaining(), RateLimitHeaders.seconds(w.resetMillis())))
                        .toList());
        switch (decision.outcome()) {
            case LIMITED -> throw ApiException.tooManyRequests("Rate limit exceeded (" + String.join(", ", decision.exceededPolicies())
                    + "); retry after the Retry-After delay.", RateLimitHeaders.seconds(decision.retryAfterMillis()), headers);
            case UNAVAILABLE -> throw ApiException.unavailable("Rate limits cannot be checked right now; retry later.",
                    (int) Math.max(1, RateLimitHeaders.seconds(decision.retryAfterMillis()))).withHeaders(headers);
            case ALLOWED -> {
                // fall through to the route
            }
        }
        try {
            return Responses.withHeaders(route.get(), headers);
        } catch (ApiException e) {
            throw e.withHeaders(headers);
        }
    }

    /**
     * Charges one unit to a subject the caller must not learn about (an email's HMAC, a service-wide
     * ceiling): nothing is added to the answer, and a refusal is a 429 with a generic detail and only
     * {@code Retry-After}, so remaining counts never tell whether someone else tried the same address.
     */
    public void chargeQuietly(String subject, List<Limit> limits, String refusalDetail) {
        if (limits.isEmpty()) return;
        Decision decision = limiter.acquire(subject, limits, 1);
        switch (decision.outcome()) {
            case LIMITED -> throw ApiException.tooManyRequests(refusalDetail,
                    RateLimitHeaders.seconds(decision.retryAfterMillis()), Map.of());
            case UNAVAILABLE -> throw ApiException.unavailable("Rate limits cannot be checked right now; retry later.",
                    (int) Math.max(1, RateLimitHeaders.seconds(decision.retryAfterMillis())));
            case ALLOWED -> {
                // charged
            }
        }
    }

    private static List<RateLimitHeaders.Policy> policies(List<Limit> limits) {
        return limits.stream().map(l -> new RateLimitHeaders.Policy(l.name(), l.quota(), l.windowSeconds())).toList();
    }
}
