package dev.usagetracker.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.TestClock;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.LocalRateLimiter;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RateLimitSettings;
import dev.usagetracker.ratelimit.RouteClass;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every declared route runs alike: what it reads first, then authentication, then its rate class, then its call. */
class RouteGateTest {
    private static final Principal ACME = new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT));

    /** The body a body-first route binds. */
    public record Greeting(String name) {}

    private final TestClock clock = new TestClock(Instant.parse("2026-12-06T10:00:00Z"));
    private final RateLimitGuard limits = new RateLimitGuard(new LocalRateLimiter(clock, 1, Duration.ofHours(1)),
            RateLimitSettings.from(Map.of("RATE_LIMIT_READ", "2/1m", "RATE_LIMIT_EXPECTED_CONTAINERS", "1")));
    // The authenticator is the Auth's to use; these routes decide by themselves.
    private final RouteGate gate = new RouteGate(null, limits);
    private final List<String> steps = new ArrayList<>();

    private final Auth acmeOnly = (authenticator, request) -> {
        steps.add("auth");
        if (request.header("X-API-Key").isEmpty()) throw ApiException.unauthorized("Send your API key in the X-API-Key header.");
        return ACME;
    };

    @Test
    void theCallRunsForTheAuthenticatedCallerWithTheRateLimitHeaders() {
        Route route = Route.of(acmeOnly, RouteClass.READ, (caller, request) -> {
            steps.add("call " + caller.clientId());
            return Responses.json(200, Map.of("ok", true));
        });

        APIGatewayV2HTTPResponse r = serve(route, "{}", "k");

        assertThat(r.getStatusCode()).isEqualTo(200);
        assertThat(steps).containsExactly("auth", "call acme");
        assertThat(r.getHeaders()).containsEntry("RateLimit-Policy", "\"read-1m\";q=2;w=60")
                .containsEntry("RateLimit", "\"read-1m\";r=1;t=60");
    }

    @Test
    void anUnauthenticatedCallerIsRefusedBeforeTheLimitAndTheCall() {
        Route route = Route.of(acmeOnly, RouteClass.READ, (caller, request) -> {
            steps.add("call");
            return Responses.noContent();
        });

        APIGatewayV2HTTPResponse r = serve(route, "{}", null);

        assertThat(r.getStatusCode()).isEqualTo(401);
        assertThat(steps).containsExactly("auth");
        assertThat(r.getHeaders()).doesNotContainKey("RateLimit");
    }

    @Test
    void theRateClassRefusesACallerOverItsLimitWithoutRunningTheCall() {
        Route route = Route.of(acmeOnly, RouteClass.READ, (caller, request) -> {
            steps.add("call");
            return Responses.noContent();
        });

        serve(route, "{}", "k");
        serve(route, "{}", "k");
        APIGatewayV2HTTPResponse third = serve(route, "{}", "k");

        assertThat(third.getStatusCode()).isEqualTo(429);
        assertThat(steps).containsExactly("auth", "call", "auth", "call", "auth");
    }

    @Test
    void aBodyFirstRouteRefusesAMalformedBodyBeforeAskingForCredentials() {
        Route route = Route.withBody(Greeting.class, acmeOnly, RouteClass.READ,
                (caller, body, request) -> Responses.json(200, Map.of("hello", body.name())));

        APIGatewayV2HTTPResponse malformed = serve(route, "{\"name\":", null);
        APIGatewayV2HTTPResponse fine = serve(route, "{\"name\":\"Ada\"}", "k");

        assertThat(malformed.getStatusCode()).isEqualTo(400);
        assertThat(fine.getStatusCode()).isEqualTo(200);
        assertThat(fine.getBody()).contains("Ada");
        assertThat(steps).containsExactly("auth");
    }

    @Test
    void aPathParameterReachesTheCall() {
        Route route = Route.of(acmeOnly, RouteClass.READ,
                (caller, request) -> Responses.json(200, Map.of("client_id", request.pathParameter("client_id"))));

        APIGatewayV2HTTPEvent event = event("{}", "k");
        event.setPathParameters(Map.of("client_id", "acme-2"));

        APIGatewayV2HTTPResponse r = ApiGateway.serve(event, gate.serve(route));

        assertThat(r.getBody()).contains("acme-2");
    }

    private APIGatewayV2HTTPResponse serve(Route route, String body, String apiKey) {
        return ApiGateway.serve(event(body, apiKey), gate.serve(route));
    }

    private static APIGatewayV2HTTPEvent event(String body, String apiKey) {
        Map<String, String> headers = apiKey == null ? Map.of("Content-Type", "application/json")
                : Map.of("Content-Type", "application/json", "X-API-Key", apiKey);
        return APIGatewayV2HTTPEvent.builder().withRawPath("/api/example").withHeaders(headers).withBody(body)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withRequestId("r-1")
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod("PUT").withSourceIp("192.0.2.1").build())
                        .build())
                .build();
    }
}
