package dev.usagetracker.functions;

import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/usage/hourly?hours=&client_id= → per-hour counts, zero-filled, current hour last. */
public final class HourlyUsageHandler extends RouteHandler {
    public HourlyUsageHandler() {
        super(Container.route(app -> route(app.analytics().cached())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(CachedAnalytics analytics) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) ->
                analytics.hourly(caller, request.queryParam("client_id"), request.intParam("hours", 24, 1, 72)).response());
    }
}
