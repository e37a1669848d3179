package dev.usagetracker.functions;

import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.webhooks.WebhookService;
import dev.usagetracker.wiring.Warmup;

/** DELETE /api/clients/me/webhook: removes the caller's webhook. */
public final class DeleteWebhookHandler extends RouteHandler {
    public DeleteWebhookHandler() {
        super(Container.route(app -> route(app.webhooks().service())),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    static Route route(WebhookService webhooks) {
        return Route.of(Auth.apiKeyItself("Removing the webhook"), RouteClass.READ, (caller, request) -> {
            webhooks.delete(caller);
            return Responses.noContent();
        });
    }
}
