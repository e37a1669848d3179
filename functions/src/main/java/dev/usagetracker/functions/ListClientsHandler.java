package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientListService;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** GET /api/clients?limit=&cursor= (admin): one page of clients, with a sealed cursor to the next. */
public final class ListClientsHandler extends RouteHandler {
    public ListClientsHandler() {
        super(Container.route(app -> route(app.accounts().list())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(ClientListService clients) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> Responses.json(200,
                clients.list(caller, request.intParam("limit", 50, 1, 100), request.queryParam("cursor"))));
    }
}
