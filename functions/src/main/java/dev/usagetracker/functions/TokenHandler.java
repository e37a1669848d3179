package dev.usagetracker.functions;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.TokenService;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;
import java.util.Optional;

/** POST /api/token: API key (header or body) → short-lived access token. */
public final class TokenHandler extends RouteHandler {
    /** The optional body: {@code {"api_key": "…"}}. */
    public record TokenRequest(String apiKey) {}

    public TokenHandler() {
        super(Container.route(app -> route(app.identity().tokens())),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    static Route route(TokenService tokens) {
        return Route.of(TokenHandler::apiKeyFromHeaderOrBody, RouteClass.READ,
                (caller, request) -> Responses.json(200, tokens.issue(caller.clientId(), caller.role(), caller.akh())));
    }

    private static Principal apiKeyFromHeaderOrBody(Authenticator authenticator, HttpRequest request) {
        Optional<String> bodyKey = request.optionalJsonBody()
                .flatMap(b -> Optional.ofNullable(Json.bind(b.node(), TokenRequest.class).apiKey()));
        return authenticator.apiKey(request, bodyKey);
    }
}
