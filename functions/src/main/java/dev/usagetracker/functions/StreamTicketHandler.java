package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.realtime.StreamTickets;
import dev.usagetracker.realtime.TokenExpiry;
import java.time.Instant;

/** POST /api/usage/stream/ticket: a single-use ticket for GET /api/usage/stream?ticket= (EventSource). */
public final class StreamTicketHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final Authenticator authenticator;
    private final StreamTickets tickets;
    private final RateLimitGuard rateLimits;
    private final TokenExpiry expiry;

    public StreamTicketHandler() {
        this(Container.app().authenticator(), Container.app().streamTickets(), Container.app().rateLimits(),
                Container.app().tokenExpiry());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    public StreamTicketHandler(Authenticator authenticator, StreamTickets tickets, RateLimitGuard rateLimits, TokenExpiry expiry) {
        this.authenticator = authenticator;
        this.tickets = tickets;
        this.rateLimits = rateLimits;
        this.expiry = expiry;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
            Principal caller = authenticator.bearer(request);
            // The ticket carries the token's exp: a stream opened with it ends when the token does.
            Instant tokenExpiresAt = expiry.ofBearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(200, tickets.issue(caller, tokenExpiresAt)));
        });
    }
}
