package dev.usagetracker.functions;

import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.ClientSettingsService.SettingsRequest;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.route.Auth;
import dev.usagetracker.route.Route;
import dev.usagetracker.wiring.Warmup;

/** PATCH /api/clients/me: the caller's own settings (its IP allowlist). */
public final class UpdateClientHandler extends RouteHandler {
    public UpdateClientHandler() {
        super(Container.route(app -> route(app.accounts().settings())),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.JSON);
    }

    static Route route(ClientSettingsService settings) {
        return Route.withBody(SettingsRequest.class, Auth.apiKeyItself("Changing the IP allowlist"), RouteClass.READ,
                (caller, body, request) -> Responses.json(200, settings.update(caller, body, request.sourceIp())));
    }
}
