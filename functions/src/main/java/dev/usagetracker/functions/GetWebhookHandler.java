package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.webhooks.WebhookService;
import dev.usagetracker.wiring.Warmup;

/** GET /api/clients/me/webhook: the caller's webhook without its secret, with the last delivery. */
public final class GetWebhookHandler extends RouteHandler {
    public GetWebhookHandler() {
        super(Container.route(app -> route(app.webhooks().service())),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    static Route route(WebhookService webhooks) {
        return Route.of(Auth.API_KEY_OR_BEARER, RouteClass.READ, (caller, request) -> Responses.json(200, webhooks.get(caller)));
    }
}
