package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.webhooks.WebhookService;
import dev.usagetracker.wiring.Warmup;

/** POST /api/clients/me/webhook/test: queues a webhook.test event for the caller's webhook. */
public final class TestWebhookHandler extends RouteHandler {
    public TestWebhookHandler() {
        super(Container.route(app -> route(app.webhooks().service())),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    static Route route(WebhookService webhooks) {
        return Route.of(Auth.API_KEY_OR_BEARER, RouteClass.READ, (caller, request) -> Responses.json(202, webhooks.test(caller)));
    }
}
