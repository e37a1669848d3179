package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.TokenService;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import java.util.Optional;

/** POST /api/token: API key (header or body) → short-lived access token. */
public final class TokenHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    /** The optional body: {@code {"api_key": "…"}}. */
    public record TokenRequest(String apiKey) {}

    private final Authenticator authenticator;
    private final TokenService tokens;
    private final RateLimitGuard rateLimits;

    public TokenHandler() {
        this(Container.app().authenticator(), Container.app().tokens(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    public TokenHandler(Authenticator authenticator, TokenService tokens, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.tokens = tokens;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Optional<String> bodyKey = request.optionalJsonBody()
                    .flatMap(b -> Optional.ofNullable(Json.bind(b.node(), TokenRequest.class).apiKey()));
            Principal caller = authenticator.apiKey(request, bodyKey);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(200, tokens.issue(caller.clientId(), caller.role(), caller.akh())));
        });
    }
}
