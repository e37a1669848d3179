package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientAdministration;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/clients/{client_id} (admin): any client's row; reading another's is audit-logged. */
public final class GetClientHandler extends RouteHandler {
    public GetClientHandler() {
        super(Container.route(app -> route(app.accounts().administration())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(ClientAdministration clients) {
        return Route.of(Auth.BEARER, RouteClass.READ,
                (caller, request) -> Responses.json(200, clients.get(caller, request.pathParameter("client_id"))));
    }
}
