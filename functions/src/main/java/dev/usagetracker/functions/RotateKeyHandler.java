package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.ClientSettingsService.RotationRequest;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** POST /api/keys/rotate: a new API key; the old one keeps working for the grace period. */
public final class RotateKeyHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final ClientSettingsService settings;
    private final RateLimitGuard rateLimits;

    public RotateKeyHandler() {
        this(Container.app().authenticator(), Container.app().clientSettings(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    public RotateKeyHandler(Authenticator authenticator, ClientSettingsService settings, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.settings = settings;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            // Only the key itself: a (possibly stolen) access token must not mint a permanent credential.
            Principal caller = authenticator.apiKeyItself(request, "Rotating the API key");
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> {
                RotationRequest body = request.optionalJsonBody()
                        .map(b -> Json.bind(b.node(), RotationRequest.class)).orElse(null);
                return Responses.json(200, settings.rotateKey(caller, body));
            });
        });
    }
}
