package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.cache.CachedUsage;
import dev.usagetracker.cache.ResponseCache;

/** GET /api/usage/top?limit=&hours= → the busiest clients (admin only). */
public final class TopUsageHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final CachedUsage usage;
    private final RateLimitGuard rateLimits;

    public TopUsageHandler() {
        this(Container.app().authenticator(), Container.app().cachedUsage(), Container.app().rateLimits());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_BATCH_READ, Warmup.JSON);
    }

    public TopUsageHandler(Authenticator authenticator, CachedUsage usage, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.usage = usage;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> {
                int[] limitAndHours = request.intParams(new HttpRequest.IntParam("limit", 3, 1, 10),
                        new HttpRequest.IntParam("hours", 24, 1, 24));
                ResponseCache.Answer answer = usage.top(caller, limitAndHours[0], limitAndHours[1]);
                return Responses.rawJson(200, answer.json(), answer.headers());
            });
        });
    }
}
