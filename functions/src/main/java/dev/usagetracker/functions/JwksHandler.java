package dev.usagetracker.functions;

import dev.usagetracker.crypto.SigningKeys;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.wiring.Warmup;
import java.util.Map;

/** GET /.well-known/jwks.json → the public half of the token signing key, cacheable. */
public final class JwksHandler extends RouteHandler {
    public JwksHandler() {
        super(route(Container.app().identity().signingKeys()), Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    /** No credential and no rate limit: the keys are public. */
    static ApiGateway.Route route(SigningKeys keys) {
        return request -> Responses.json(200, keys.publicKeys().toJSONObject(true), Map.of("Cache-Control", "public, max-age=300"));
    }
}
