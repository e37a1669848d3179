package dev.usagetracker.realtime;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The WebSocket API's {@code $connect} and {@code $disconnect}: a connection is accepted only with an
 * access token ({@code ?token=}: browsers cannot set headers on a WebSocket handshake) that passes the
 * same checks as on {@code /api/usage/*} — signature, expiry, client still registered, IP allowlists —
 * and within the client's read quota; it is then kept until API Gateway says it closed.
 */
public final class StreamConnections {
    /** API Gateway closes a WebSocket connection after 2 hours: a row is never needed longer. */
    public static final Duration MAX_CONNECTION = Duration.ofHours(2);

    private final Authenticator authenticator;
    private final RateLimitGuard rateLimits;
    private final ConnectionStore store;
    private final Clock clock;

    public StreamConnections(Authenticator authenticator, RateLimitGuard rateLimits, ConnectionStore store, Clock clock) {
        this.authenticator = authenticator;
        this.rateLimits = rateLimits;
        this.store = store;
        this.clock = clock;
    }

    /** Throws the problem a refused handshake answers with (401, 403, 429). */
    public LiveConnection connect(String connectionId, String token, String sourceIp) {
        if (token == null || token.isBlank()) {
            throw ApiException.unauthorized("Connect with ?token=<access token> (POST /api/token).");
        }
        Principal viewer = Authenticator.admitted(authenticator.verdict("Bearer " + token, sourceIp));
        if (!viewer.has(Principal.SCOPE_USAGE_READ)) throw ApiException.forbidden("This credential may not read usage.");
        Instant now = clock.instant();
        LiveConnection connection = LiveConnection.of(connectionId, viewer, now, now.plus(MAX_CONNECTION).plus(Duration.ofMinutes(5)));
        rateLimits.forClient(viewer, RouteClass.READ, 1, () -> {
            store.put(connection);
            return APIGatewayV2HTTPResponse.builder().withStatusCode(200).withHeaders(Map.of()).build();
        });
        return connection;
    }

    public void disconnect(String connectionId) {
        store.delete(connectionId);
    }
}
