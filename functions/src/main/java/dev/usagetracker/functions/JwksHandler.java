package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.crypto.SigningKeys;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import java.util.Map;

/** GET /.well-known/jwks.json → the public half of the token signing key, cacheable. */
public final class JwksHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final SigningKeys keys;

    public JwksHandler() {
        this(Container.app().signingKeys());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    public JwksHandler(SigningKeys keys) {
        this.keys = keys;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> Responses.json(200, keys.publicKeys().toJSONObject(true),
                Map.of("Cache-Control", "public, max-age=300")));
    }
}
