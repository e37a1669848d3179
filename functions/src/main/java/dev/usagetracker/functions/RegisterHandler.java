package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.App;
import dev.usagetracker.clients.Registration;
import dev.usagetracker.clients.RegistrationLimits;
import dev.usagetracker.clients.RegistrationService;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Json;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;

/** POST /api/register → 201 with the client and its API key (shown once). */
public final class RegisterHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final RegistrationService registration;
    private final RateLimitGuard rateLimits;

    private final RegistrationLimits limits;

    public RegisterHandler() {
        this(Container.app().registration(), Container.app().rateLimits(),
                RegistrationLimits.from(dev.usagetracker.config.LambdaEnvironment.get()));
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_WRITE_CHECK, Warmup.JSON);
    }

    public RegisterHandler(RegistrationService registration, RateLimitGuard rateLimits) {
        this(registration, rateLimits, RegistrationLimits.from(java.util.Map.of()));
    }

    public RegisterHandler(RegistrationService registration, RateLimitGuard rateLimits, RegistrationLimits limits) {
        this.registration = registration;
        this.rateLimits = rateLimits;
        this.limits = limits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        // Every attempt counts, invalid or duplicate ones too: that is what stops probing for emails.
        // Then a ceiling across all addresses and a limit per email (its HMAC), against enumeration from many IPs.
        return ApiGateway.serve(event, request -> rateLimits.forSourceIp(request, RouteClass.REGISTER, () -> {
            limits.chargeGlobal(rateLimits);
            Registration body = Json.bind(request.jsonBody().node(), Registration.class);
            return Responses.json(201, registration.register(body, emailHash -> limits.chargeEmail(rateLimits, emailHash)));
        }));
    }
}
