package dev.usagetracker.functions;

import dev.usagetracker.analytics.ExportFormat;
import dev.usagetracker.analytics.ExportLinks;
import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/usage/export?from=&to=&granularity=&client_id=&cursor= → CSV (or NDJSON), paged by Link. */
public final class UsageExportHandler extends RouteHandler {
    public UsageExportHandler() {
        super(Container.route(app -> route(app.analytics().cached())),
                Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.KEY_HASH, Warmup.JSON);
    }

    static Route route(CachedAnalytics analytics) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> {
            ExportFormat format = ExportFormat.negotiate(request.header("Accept").orElse(null));
            CachedAnalytics.Export export = analytics.export(caller, request.query());
            return Responses.text(200, format.contentType(), format.render(export.page()),
                    ExportLinks.headers(request, export, format));
        });
    }
}
