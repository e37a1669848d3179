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
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.webhooks.WebhookService;

/** DELETE /api/clients/me/webhook: removes the caller's webhook. */
public final class DeleteWebhookHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final WebhookService webhooks;
    private final RateLimitGuard rateLimits;

    public DeleteWebhookHandler() {
        this(Container.app().authenticator(), Container.app().webhooks(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    public DeleteWebhookHandler(Authenticator authenticator, WebhookService webhooks, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.webhooks = webhooks;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.apiKeyItself(request, "Removing the webhook");
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> {
                webhooks.delete(caller);
                return Responses.noContent();
            });
        });
    }
}
