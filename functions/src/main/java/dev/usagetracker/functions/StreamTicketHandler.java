package dev.usagetracker.functions;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.realtime.StreamTickets;
import dev.usagetracker.realtime.TokenExpiry;
import dev.usagetracker.wiring.Warmup;
import java.time.Instant;

/** POST /api/usage/stream/ticket: a single-use ticket for GET /api/usage/stream?ticket= (EventSource). */
public final class StreamTicketHandler extends RouteHandler {
    public StreamTicketHandler() {
        super(route(Container.app().identity().authenticator(), Container.app().realtime().tickets(),
                Container.app().plans().rateLimits(), Container.app().realtime().tokenExpiry()),
                Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    /** Not a declared {@link dev.usagetracker.route.Route}: the token's exp is read between authentication and the limit. */
    static ApiGateway.Route route(Authenticator authenticator, StreamTickets tickets, RateLimitGuard rateLimits, TokenExpiry expiry) {
        return request -> {
            Principal caller = authenticator.bearer(request);
            // The ticket carries the token's exp: a stream opened with it ends when the token does.
            Instant tokenExpiresAt = expiry.ofBearer(request);
            return rateLimits.forClient(caller, RouteClass.READ, 1, () -> Responses.json(200, tickets.issue(caller, tokenExpiresAt)));
        };
    }
}
