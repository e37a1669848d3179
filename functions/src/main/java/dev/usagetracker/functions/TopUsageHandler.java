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
import dev.usagetracker.usage.UsageService;

/** GET /api/usage/top?limit=&hours= → the busiest clients (admin only). */
public final class TopUsageHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final UsageService usage;

    public TopUsageHandler() {
        this(Container.app().authenticator(), Container.app().usage());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_BATCH_READ, Warmup.JSON);
    }

    public TopUsageHandler(Authenticator authenticator, UsageService usage) {
        this.authenticator = authenticator;
        this.usage = usage;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            int limit = request.intParam("limit", 3, 1, 10);
            int hours = request.intParam("hours", 24, 1, 24);
            return Responses.json(200, usage.top(caller, limit, hours));
        });
    }
}
