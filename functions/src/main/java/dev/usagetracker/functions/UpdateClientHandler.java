package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.ClientSettingsService.SettingsRequest;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** PATCH /api/clients/me: the caller's own settings (its IP allowlist). */
public final class UpdateClientHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final ClientSettingsService settings;
    private final RateLimitGuard rateLimits;

    public UpdateClientHandler() {
        this(Container.app().authenticator(), Container.app().clientSettings(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    public UpdateClientHandler(Authenticator authenticator, ClientSettingsService settings, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.settings = settings;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            SettingsRequest body = Json.bind(request.jsonBody().node(), SettingsRequest.class);
            Principal caller = authenticator.apiKeyItself(request, "Changing the IP allowlist");
            return rateLimits.forClient(caller, RouteClass.READ, 1,
                    () -> Responses.json(200, settings.update(caller, body, request.sourceIp())));
        });
    }
}
