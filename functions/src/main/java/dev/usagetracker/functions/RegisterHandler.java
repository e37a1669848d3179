package dev.usagetracker.functions;

import dev.usagetracker.clients.Registration;
import dev.usagetracker.clients.RegistrationLimits;
import dev.usagetracker.clients.RegistrationService;
import dev.usagetracker.config.LambdaEnvironment;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.wiring.Warmup;

/** POST /api/register → 201 with the client and its API key (shown once). */
public final class RegisterHandler extends RouteHandler {
    public RegisterHandler() {
        super(route(Container.app().accounts().registration(), Container.app().plans().rateLimits(),
                RegistrationLimits.from(LambdaEnvironment.get())), Warmup.KEY_HASH, Warmup.CLIENT_WRITE_CHECK, Warmup.JSON);
    }

    /** Not a declared {@link dev.usagetracker.route.Route}: there is no caller yet, so it is limited per source IP. */
    static ApiGateway.Route route(RegistrationService registration, RateLimitGuard rateLimits, RegistrationLimits limits) {
        // Every attempt counts, invalid or duplicate ones too: that is what stops probing for emails.
        // Then a ceiling across all addresses and a limit per email (its HMAC), against enumeration from many IPs.
        return request -> rateLimits.forSourceIp(request, RouteClass.REGISTER, () -> {
            limits.chargeGlobal(rateLimits);
            Registration body = Json.bind(request.jsonBody().node(), Registration.class);
            return Responses.json(201, registration.register(body, emailHash -> limits.chargeEmail(rateLimits, emailHash)));
        });
    }
}
