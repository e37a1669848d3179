package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.ClientSettingsService.RotationRequest;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** POST /api/keys/rotate: a new API key; the old one keeps working for the grace period. */
public final class RotateKeyHandler extends RouteHandler {
    public RotateKeyHandler() {
        super(Container.route(app -> route(app.accounts().settings())),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    static Route route(ClientSettingsService settings) {
        // Only the key itself: a (possibly stolen) access token must not mint a permanent credential.
        return Route.of(Auth.apiKeyItself("Rotating the API key"), RouteClass.READ, (caller, request) -> {
            RotationRequest body = request.optionalJsonBody().map(b -> Json.bind(b.node(), RotationRequest.class)).orElse(null);
            return Responses.json(200, settings.rotateKey(caller, body));
        });
    }
}
