package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.cache.ResponseCache;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** GET /api/usage/endpoints?days=&limit=&client_id=&group_by= → hits per route template (or method and template), the rest in other. */
public final class EndpointUsageHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final CachedAnalytics analytics;
    private final RateLimitGuard rateLimits;

    public EndpointUsageHandler() {
        this(Container.app().authenticator(), Container.app().cachedAnalytics(), Container.app().rateLimits());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public EndpointUsageHandler(Authenticator authenticator, CachedAnalytics analytics, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.analytics = analytics;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> {
                int[] daysAndLimit = request.intParams(new HttpRequest.IntParam("days", 7, 1, 31),
                        new HttpRequest.IntParam("limit", 10, 1, 100));
                ResponseCache.Answer answer = analytics.endpoints(caller, request.queryParam("client_id"), daysAndLimit[0], daysAndLimit[1],
                        request.queryParam("group_by"));
                return Responses.rawJson(200, answer.json(), answer.headers());
            });
        });
    }
}
