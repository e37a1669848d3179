package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.webhooks.WebhookService;
import dev.usagetracker.webhooks.WebhookService.WebhookRequest;
import dev.usagetracker.wiring.Warmup;

/** PUT /api/clients/me/webhook: saves the caller's webhook and returns its signing secret, once. */
public final class PutWebhookHandler extends RouteHandler {
    public PutWebhookHandler() {
        super(Container.route(app -> route(app.webhooks().service())), Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(WebhookService webhooks) {
        // Setting a webhook secret needs the current API key itself: a bearer token cannot mint a permanent
        // credential (403), nor can a key rotated away redirect the alerts.
        return Route.withBody(WebhookRequest.class, Auth.apiKeyItself("Setting the webhook"), RouteClass.READ,
                (caller, body, request) -> Responses.json(200, webhooks.put(caller, body)));
    }
}
