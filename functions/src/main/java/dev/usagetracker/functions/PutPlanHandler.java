package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** PUT /api/plans/{name} (admin): creates or replaces a plan; omitted fields keep the default plan's. */
public final class PutPlanHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final dev.usagetracker.plans.PlanService service;
    private final RateLimitGuard rateLimits;

    public PutPlanHandler() {
        this(Container.app().authenticator(), Container.app().planService(), Container.app().rateLimits());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public PutPlanHandler(Authenticator authenticator, dev.usagetracker.plans.PlanService service, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.service = service;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(200, service.put(caller, request.path().substring(request.path().lastIndexOf('/') + 1), request.jsonBody().node())));
        });
    }
}
