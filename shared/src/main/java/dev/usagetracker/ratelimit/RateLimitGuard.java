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

    public RateLimitGuard(RateLimiter limiter, RateLimitSettings settings) {
        this.limiter = limiter;
        this.settings = settings;
    }

    /** Limits an authenticated caller by client id, with the limits of its plan; {@code cost} units. */
    public APIGatewayV2HTTPResponse forClient(Principal caller, RouteClass routeClass, int cost,
                                              Supplier<APIGatewayV2HTTPResponse> route) {
        return guard(routeClass.wireName() + ":" + caller.clientId(), settings.limits(routeClass, caller.plan()), cost, route);
    }

    /** Limits an anonymous route (registration) by the source IP API Gateway saw, never a client-sent header. */
    public APIGatewayV2HTTPResponse forSourceIp(HttpRequest request, RouteClass routeClass,
                                                Supplier<APIGatewayV2HTTPResponse> route) {
        String ip = request.sourceIp() == null || request.sourceIp().isBlank() ? "unknown" : request.sourceIp();
        return guard(routeClass.wireName() + ":" + ip, settings.defaults().get(routeClass), 1, route);
    }

    private APIGatewayV2HTTPResponse guard(String subject, List<Limit> limits, int cost, Supplier<APIGatewayV2HTTPResponse> route) {
        if (limits.isEmpty()) return route.get();
        Limit smallest = limits.stream().min((a, b) -> Long.compare(a.quota(), b.quota())).orElseThrow();
        if (cost > smallest.quota()) {
            // Waiting would not help: say so, rather than 429 with a Retry-After that never comes true.
            throw ApiException.badRequest("This request needs " + cost + " units but the " + smallest.name()
                    + " policy allows " + smallest.quota() + " per " + smallest.windowSeconds() + " s; send smaller batches.")
                    .withHeaders(RateLimitHeaders.of(policies(limits), List.of()));
        }
        Decision decision = limiter.acquire(subject, limits, cost);
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
