package dev.usagetracker.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.TestClock;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.redis.Redis;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The guard's HTTP decisions, with the in-memory limiter (pure logic; Redis is covered in the local module). */
class RateLimitGuardTest {
    private final TestClock clock = new TestClock(Instant.parse("2026-11-25T10:00:00Z"));
    private final RateLimitSettings settings = RateLimitSettings.from(Map.of(
            "RATE_LIMIT_INGEST", "3/1m,10/1h",
            "RATE_LIMIT_INGEST_HITS", "5/1m",
            "RATE_LIMIT_READ", "2/1m",
            "RATE_LIMIT_REGISTER", "1/1m",
            "RATE_LIMIT_PLANS", "{\"pro\":{\"ingest\":\"100/1m\",\"ingest_hits\":\"1000/1m\"}}",
            "RATE_LIMIT_EXPECTED_CONTAINERS", "1"));
    private final RateLimitGuard guard = guard(new LocalRateLimiter(clock, 1, Duration.ofHours(1)));
    private final Principal acme = new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
    private final AtomicInteger routeRuns = new AtomicInteger();

    private RateLimitGuard guard(RateLimiter limiter) {
        return new RateLimitGuard(limiter, settings);
    }

    private APIGatewayV2HTTPResponse accepted() {
        routeRuns.incrementAndGet();
        return Responses.json(202, Map.of("accepted", 1));
    }

    private static APIGatewayV2HTTPResponse serve(java.util.function.Supplier<APIGatewayV2HTTPResponse> call) {
        APIGatewayV2HTTPEvent event = APIGatewayV2HTTPEvent.builder().withRawPath("/api/logs")
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withRequestId("r-1")
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod("POST").withSourceIp("192.0.2.1").build())
                        .build())
                .build();
        return ApiGateway.serve(event, request -> call.get());
    }

    @Test
    void anAllowedResponseCarriesPolicyAndState() {
        APIGatewayV2HTTPResponse r = guard.forClient(acme, RouteClass.INGEST, 1, this::accepted);
        assertThat(r.getStatusCode()).isEqualTo(202);
        assertThat(r.getHeaders())
                .containsEntry("RateLimit-Policy", "\"ingest-1m\";q=3;w=60,\"ingest-1h\";q=10;w=3600,\"ingest_hits-1m\";q=5;w=60")
                .containsEntry("RateLimit", "\"ingest-1m\";r=2;t=60,\"ingest-1h\";r=9;t=3600,\"ingest_hits-1m\";r=4;t=60")
                .containsEntry("Content-Type", "application/json");
    }

    @Test
    void overTheQuotaIsA429ProblemWithRetryAfterAndTheRouteNeverRuns() {
        for (int i = 0; i < 3; i++) guard.forClient(acme, RouteClass.INGEST, 1, this::accepted);
        clock.advance(Duration.ofMillis(12_300));
        APIGatewayV2HTTPResponse r = serve(() -> guard.forClient(acme, RouteClass.INGEST, 1, this::accepted));
        assertThat(routeRuns).hasValue(3);
        assertThat(r.getStatusCode()).isEqualTo(429);
        assertThat(r.getHeaders()).containsEntry("Content-Type", "application/problem+json")
                .containsEntry("Retry-After", "48") // 47.7 s until the first slot leaves, rounded up
                .containsEntry("RateLimit", "\"ingest-1m\";r=0;t=48,\"ingest-1h\";r=7;t=3588,\"ingest_hits-1m\";r=2;t=48");
        assertThat(r.getBody()).contains("\"status\":429").contains("/rate-limited").contains("ingest-1m")
                .contains("urn:request:r-1");
    }

    @Test
    void problemsAfterAdmissionCarryTheFieldsToo() {
        APIGatewayV2HTTPResponse r = serve(() -> guard.forClient(acme, RouteClass.READ, 1, () -> {
            throw ApiException.validation(List.of(new ApiException.FieldError("days", "must be an integer from 1 to 31")));
        }));
        assertThat(r.getStatusCode()).isEqualTo(400);
        assertThat(r.getHeaders()).containsEntry("RateLimit", "\"read-1m\";r=1;t=60");
    }

    @Test
    void aBatchLargerThanTheHitsCapAllowsIsABadRequestNotA429() {
        APIGatewayV2HTTPResponse r = serve(() -> guard.forClient(acme, RouteClass.INGEST, 6, this::accepted));
        assertThat(r.getStatusCode()).isEqualTo(400);
        assertThat(r.getHeaders()).doesNotContainKey("Retry-After").containsKey("RateLimit-Policy");
        assertThat(r.getBody()).contains("ingest_hits-1m").contains("smaller batches");
        // nothing was consumed
        assertThat(guard.forClient(acme, RouteClass.INGEST, 5, this::accepted).getHeaders())
                .containsEntry("RateLimit", "\"ingest-1m\";r=2;t=60,\"ingest-1h\";r=9;t=3600,\"ingest_hits-1m\";r=0;t=60");
    }

    @Test
    void aBatchIsOneRequestAndTheHitsCapRefusesTheFloodInTheSameStep() {
        assertThat(guard.forClient(acme, RouteClass.INGEST, 4, this::accepted).getHeaders())
                .containsEntry("RateLimit", "\"ingest-1m\";r=2;t=60,\"ingest-1h\";r=9;t=3600,\"ingest_hits-1m\";r=1;t=60");
        APIGatewayV2HTTPResponse flood = serve(() -> guard.forClient(acme, RouteClass.INGEST, 2, this::accepted));
        assertThat(flood.getStatusCode()).isEqualTo(429);
        assertThat(flood.getBody()).contains("ingest_hits-1m").doesNotContain("(ingest-1m");
        // refused as a whole: the request windows were not charged either
        assertThat(flood.getHeaders()).containsEntry("RateLimit", "\"ingest-1m\";r=2;t=60,\"ingest-1h\";r=9;t=3600,\"ingest_hits-1m\";r=1;t=60");
        assertThat(guard.forClient(acme, RouteClass.INGEST, 1, this::accepted).getStatusCode()).isEqualTo(202);
    }

    @Test
    void aClientsPlanReplacesTheDefaultsOfItsClasses() {
        Principal pro = new Principal("big", Role.CLIENT, Principal.scopesFor(Role.CLIENT), "pro");
        APIGatewayV2HTTPResponse r = guard.forClient(pro, RouteClass.INGEST, 50, this::accepted);
        assertThat(r.getHeaders()).containsEntry("RateLimit-Policy", "\"ingest-1m\";q=100;w=60,\"ingest_hits-1m\";q=1000;w=60");
        // its reads keep the default plan
        assertThat(guard.forClient(pro, RouteClass.READ, 1, this::accepted).getHeaders())
                .containsEntry("RateLimit-Policy", "\"read-1m\";q=2;w=60");
    }

    @Test
    void registrationIsLimitedBySourceIp() {
        APIGatewayV2HTTPResponse first = serve(() -> guard.forSourceIp(request("192.0.2.1"), RouteClass.REGISTER, this::accepted));
        assertThat(first.getStatusCode()).isEqualTo(202);
        assertThat(serve(() -> guard.forSourceIp(request("192.0.2.1"), RouteClass.REGISTER, this::accepted)).getStatusCode()).isEqualTo(429);
        assertThat(serve(() -> guard.forSourceIp(request("2001:db8::1"), RouteClass.REGISTER, this::accepted)).getStatusCode()).isEqualTo(202);
    }

    @Test
    void whenRedisIsDownEachModeDoesWhatItSays() {
        RateLimiter down = (subject, charges) -> {
            throw new Redis.UnavailableException("redis unavailable: test", null);
        };
        LocalRateLimiter local = new LocalRateLimiter(clock, 1, Duration.ofHours(1));

        RateLimitGuard localMode = guard(new FallbackRateLimiter(Optional.of(down), local, FailureMode.LOCAL, Duration.ofSeconds(10)));
        for (int i = 0; i < 3; i++) assertThat(localMode.forClient(acme, RouteClass.INGEST, 1, this::accepted).getStatusCode()).isEqualTo(202);
        assertThat(serve(() -> localMode.forClient(acme, RouteClass.INGEST, 1, this::accepted)).getStatusCode()).isEqualTo(429);

        RateLimitGuard open = guard(new FallbackRateLimiter(Optional.of(down), local, FailureMode.FAIL_OPEN, Duration.ofSeconds(10)));
        APIGatewayV2HTTPResponse allowed = open.forClient(acme, RouteClass.INGEST, 1, this::accepted);
        assertThat(allowed.getStatusCode()).isEqualTo(202);
        assertThat(allowed.getHeaders()).containsKey("RateLimit-Policy").doesNotContainKey("RateLimit");

        RateLimitGuard closed = guard(new FallbackRateLimiter(Optional.of(down), local, FailureMode.FAIL_CLOSED, Duration.ofSeconds(10)));
        int before = routeRuns.get();
        APIGatewayV2HTTPResponse refused = serve(() -> closed.forClient(acme, RouteClass.INGEST, 1, this::accepted));
        assertThat(refused.getStatusCode()).isEqualTo(503);
        assertThat(refused.getHeaders()).containsEntry("Retry-After", "10");
        assertThat(routeRuns).hasValue(before);

        // no Redis configured at all: the mode applies from the start
        RateLimitGuard none = guard(new FallbackRateLimiter(Optional.empty(), new LocalRateLimiter(clock, 1, Duration.ofHours(1)),
                FailureMode.LOCAL, Duration.ofSeconds(10)));
        assertThat(none.forClient(acme, RouteClass.READ, 1, this::accepted).getHeaders()).containsEntry("RateLimit", "\"read-1m\";r=1;t=60");
    }

    private static dev.usagetracker.http.HttpRequest request(String ip) {
        return new dev.usagetracker.http.HttpRequest("POST", "/api/register", Map.of(), Map.of(), new byte[0], ip, "r", Map.of());
    }
}
