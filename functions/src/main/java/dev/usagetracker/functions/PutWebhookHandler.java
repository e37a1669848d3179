package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.webhooks.WebhookService;
import dev.usagetracker.webhooks.WebhookService.WebhookRequest;

/** PUT /api/clients/me/webhook: saves the caller's webhook and returns its signing secret, once. */
public final class PutWebhookHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final WebhookService webhooks;
    private final RateLimitGuard rateLimits;

    public PutWebhookHandler() {
        this(Container.app().authenticator(), Container.app().webhooks(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public PutWebhookHandler(Authenticator authenticator, WebhookService webhooks, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.webhooks = webhooks;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            WebhookRequest body = Json.bind(request.jsonBody().node(), WebhookRequest.class);
            // Setting a webhook secret needs the current API key itself: a bearer token cannot mint a permanent
            // credential (403), nor can a key rotated away redirect the alerts.
            Principal caller = authenticator.apiKeyItself(request, "Setting the webhook");
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(200, webhooks.put(caller, body)));
        });
    }
}
