package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.plans.PlanService;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** PUT /api/plans/{name} (admin): creates or replaces a plan; omitted fields keep the default plan's. */
public final class PutPlanHandler extends RouteHandler {
    public PutPlanHandler() {
        super(Container.route(app -> route(app.plans().service())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(PlanService plans) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> Responses.json(200,
                plans.put(caller, request.path().substring(request.path().lastIndexOf('/') + 1), request.jsonBody().node())));
    }
}
