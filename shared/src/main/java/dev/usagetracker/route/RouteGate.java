package dev.usagetracker.route;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.ratelimit.RateLimitGuard;

/** Runs declared {@link Route}s with the container's authenticator and rate limits. */
public record RouteGate(Authenticator authenticator, RateLimitGuard rateLimits) {

    /** The route as {@link ApiGateway#serve} runs it: its errors become problem+json there. */
    public ApiGateway.Route serve(Route route) {
        return request -> {
            Route.Call call = route.preparation().prepare(request);
            Principal caller = route.auth().authenticate(authenticator, request);
            return rateLimits.forClient(caller, route.rateClass(), 1, () -> call.answer(caller, request));
        };
    }
}
