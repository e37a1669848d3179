package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientErasureService;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** DELETE /api/clients/{client_id} (admin): erases another client; its credentials stop working at once. */
public final class AdminEraseClientHandler extends RouteHandler {
    public AdminEraseClientHandler() {
        super(Container.route(app -> route(app.erasure().service())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(ClientErasureService erasure) {
        return Route.of(Auth.BEARER, RouteClass.READ,
                (caller, request) -> Responses.json(202, erasure.eraseOther(caller, request.pathParameter("client_id"))));
    }
}
