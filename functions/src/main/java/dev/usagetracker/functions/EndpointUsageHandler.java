package dev.usagetracker.functions;

import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/usage/endpoints?days=&limit=&client_id=&group_by= → hits per route template (or method and template), the rest in other. */
public final class EndpointUsageHandler extends RouteHandler {
    public EndpointUsageHandler() {
        super(Container.route(app -> route(app.analytics().cached())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(CachedAnalytics analytics) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> {
            int[] daysAndLimit = request.intParams(new HttpRequest.IntParam("days", 7, 1, 31),
                    new HttpRequest.IntParam("limit", 10, 1, 100));
            return analytics.endpoints(caller, request.queryParam("client_id"), daysAndLimit[0], daysAndLimit[1],
                    request.queryParam("group_by")).response();
        });
    }
}
