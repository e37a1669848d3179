package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.plans.QuotaService;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/usage/quota?client_id= : the caller's (or, for the admin, a client's) plan and month so far. */
public final class UsageQuotaHandler extends RouteHandler {
    public UsageQuotaHandler() {
        super(Container.route(app -> route(app.plans().quotaService())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(QuotaService quotas) {
        return Route.of(Auth.BEARER, RouteClass.READ,
                (caller, request) -> Responses.json(200, quotas.quota(caller, request.queryParam("client_id"))));
    }
}
