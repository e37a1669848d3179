package dev.usagetracker.functions;

import dev.usagetracker.cache.CachedUsage;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/usage/top?limit=&hours= → the busiest clients (admin only). */
public final class TopUsageHandler extends RouteHandler {
    public TopUsageHandler() {
        super(Container.route(app -> route(app.usage().cached())), Warmup.PUBLIC_KEY, Warmup.CLIENT_BATCH_READ, Warmup.JSON);
    }

    static Route route(CachedUsage usage) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> {
            int[] limitAndHours = request.intParams(new HttpRequest.IntParam("limit", 3, 1, 10),
                    new HttpRequest.IntParam("hours", 24, 1, 24));
            return usage.top(caller, limitAndHours[0], limitAndHours[1]).response();
        });
    }
}
