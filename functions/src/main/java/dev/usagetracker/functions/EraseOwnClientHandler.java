package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientErasureService;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** DELETE /api/clients/me: the client erases itself; only its API key may ask (a token gets 403). */
public final class EraseOwnClientHandler extends RouteHandler {
    public EraseOwnClientHandler() {
        super(Container.route(app -> route(app.erasure().service())), Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.JSON);
    }

    static Route route(ClientErasureService erasure) {
        // Only the key itself: a (possibly stolen) access token must not erase the account.
        return Route.of(Auth.apiKeyItself("Erasing the client"), RouteClass.READ,
                (caller, request) -> Responses.json(202, erasure.eraseOwn(caller)));
    }
}
