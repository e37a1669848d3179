package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.ClientErasureService;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** DELETE /api/clients/me: the client erases itself; only its API key may ask (a token gets 403). */
public final class EraseOwnClientHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final ClientErasureService erasure;
    private final RateLimitGuard rateLimits;

    public EraseOwnClientHandler() {
        this(Container.app().authenticator(), Container.app().clientErasure(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public EraseOwnClientHandler(Authenticator authenticator, ClientErasureService erasure, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.erasure = erasure;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            // Only the key itself: a (possibly stolen) access token must not erase the account.
            Principal caller = authenticator.apiKeyItself(request, "Erasing the client");
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(202, erasure.eraseOwn(caller)));
        });
    }
}
