package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.ClientAdministration;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** GET /api/clients/me: the caller's own client row (email decrypted). */
public final class OwnClientHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final ClientAdministration clients;
    private final RateLimitGuard rateLimits;

    public OwnClientHandler() {
        this(Container.app().authenticator(), Container.app().clientAdministration(), Container.app().rateLimits());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public OwnClientHandler(Authenticator authenticator, ClientAdministration clients, RateLimitGuard rateLimits) {
        this.authenticator = authenticator;
        this.clients = clients;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(200, clients.own(caller)));
        });
    }
}
