package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.analytics.ExportFormat;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** GET /api/usage/export?from=&to=&granularity=&client_id=&cursor= → CSV (or NDJSON), paged by Link. */
public final class UsageExportHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final CachedAnalytics analytics;
    private final RateLimitGuard rateLimits;

    public UsageExportHandler() {
        this(Container.app().authenticator(), Container.app().cachedAnalytics(), Container.app().rateLimits());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.KEY_HASH, Warmup.JSON);
    }

    public UsageExportHandler(Authenticator authenticator, CachedAnalytics analytics, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.analytics = analytics;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> {
                ExportFormat format = ExportFormat.negotiate(request.header("Accept").orElse(null));
                CachedAnalytics.Export export = analytics.export(caller, request.query());
                return Responses.text(200, format.contentType(), format.render(export.page()),
                        dev.usagetracker.analytics.ExportLinks.headers(request, export, format));
            });
        });
    }
}
