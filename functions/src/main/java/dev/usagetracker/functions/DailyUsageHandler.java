package dev.usagetracker.functions;

import dev.usagetracker.cache.CachedUsage;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/usage/daily?days=&client_id= → per-day counts, zeros included. */
public final class DailyUsageHandler extends RouteHandler {
    public DailyUsageHandler() {
        super(Container.route(app -> route(app.usage().cached())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(CachedUsage usage) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) ->
                usage.daily(caller, request.queryParam("client_id"), request.intParam("days", 7, 1, 31)).response());
    }
}
