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

/** DELETE /api/clients/{client_id} (admin): erases another client; its credentials stop working at once. */
public final class AdminEraseClientHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final ClientErasureService erasure;
    private final RateLimitGuard rateLimits;

    public AdminEraseClientHandler() {
        this(Container.app().authenticator(), Container.app().clientErasure(), Container.app().rateLimits());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public AdminEraseClientHandler(Authenticator authenticator, ClientErasureService erasure, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.erasure = erasure;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        String clientId = PathParameters.of(event, "client_id");
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1,
                    () -> Responses.json(202, erasure.eraseOther(caller, clientId)));
        });
    }
}
