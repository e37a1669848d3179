package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientAdministration;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/clients/me: the caller's own client row (email decrypted). */
public final class OwnClientHandler extends RouteHandler {
    public OwnClientHandler() {
        super(Container.route(app -> route(app.accounts().administration())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(ClientAdministration clients) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> Responses.json(200, clients.own(caller)));
    }
}
