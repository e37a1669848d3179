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

/** GET /api/usage/daily?days=&client_id= → per-day counts, zeros included. */
public final class DailyUsageHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final UsageService usage;

    public DailyUsageHandler() {
        this(Container.app().authenticator(), Container.app().usage());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public DailyUsageHandler(Authenticator authenticator, UsageService usage) {
        this.authenticator = authenticator;
        this.usage = usage;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            int days = request.intParam("days", 7, 1, 31);
            return Responses.json(200, usage.daily(caller, request.queryParam("client_id"), days));
        });
    }
}
