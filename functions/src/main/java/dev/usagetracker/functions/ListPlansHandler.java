package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.plans.PlanService;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/plans (admin): every plan, default first. */
public final class ListPlansHandler extends RouteHandler {
    public ListPlansHandler() {
        super(Container.route(app -> route(app.plans().service())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(PlanService plans) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> Responses.json(200, plans.list(caller)));
    }
}
