package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientAdministration;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** PATCH /api/clients/{client_id} (admin): plan, disabled, allowed_ips; a disable revokes at once. */
public final class AdminUpdateClientHandler extends RouteHandler {
    public AdminUpdateClientHandler() {
        super(Container.route(app -> route(app.accounts().administration())), Warmup.PUBLIC_KEY, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(ClientAdministration clients) {
        return Route.of(Auth.BEARER, RouteClass.READ, (caller, request) -> Responses.json(200,
                clients.update(caller, request.pathParameter("client_id"), request.jsonBody().node(), request.sourceIp())));
    }
}
