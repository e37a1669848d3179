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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket API's {@code $connect} and {@code $disconnect}: a connection is accepted only with an
 * access token ({@code ?token=}: browsers cannot set headers on a WebSocket handshake) that passes the
 * same checks as on {@code /api/usage/*} — signature, expiry, client still registered, IP allowlists —
 * and within the client's read quota and its cap on open connections (like SSE streams, 10 by default). Its row keeps what the fan-out re-checks before every push: the
 * principal, the source address and the token's {@code exp} (also the row's TTL). When a client's
 * credentials change, {@link #closeAllFor} removes its rows (and closes the sockets where this process
 * can reach {@code @connections}), so nothing is pushed to them again.
 */
public final class StreamConnections {
    private static final Logger LOG = LoggerFactory.getLogger(StreamConnections.class);
    /** API Gateway closes a WebSocket connection after 2 hours: a row is never needed longer. */
    public static final Duration MAX_CONNECTION = Duration.ofHours(2);

    private final Authenticator authenticator;
    private final TokenExpiry expiry;
    private final RateLimitGuard rateLimits;
    private final ConnectionStore store;
    private final Optional<LiveConnections> sockets;
    private final Clock clock;
    private final int maxPerClient;

    /**
     * {@code sockets}: the {@code @connections} API, if this process may close connections (then
     * {@link #closeAllFor} closes the sockets too; without it the rows go and the sockets fall silent).
     */
    public StreamConnections(Authenticator authenticator, TokenExpiry expiry, RateLimitGuard rateLimits, ConnectionStore store,
                             Optional<LiveConnections> sockets, Clock clock) {
        this(authenticator, expiry, rateLimits, store, sockets, clock, StreamSettings.DEFAULT_MAX_STREAMS_PER_CLIENT);
    }

    /** {@code maxPerClient}: open connections one client may hold, as its SSE streams ({@code SSE_MAX_STREAMS_PER_CLIENT}). */
    public StreamConnections(Authenticator authenticator, TokenExpiry expiry, RateLimitGuard rateLimits, ConnectionStore store,
                             Optional<LiveConnections> sockets, Clock clock, int maxPerClient) {
        this.maxPerClient = maxPerClient;
        this.authenticator = authenticator;
        this.expiry = expiry;
        this.rateLimits = rateLimits;
        this.store = store;
        this.sockets = sockets;
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
        Instant exp = expiry.of(token);
        if (!exp.isAfter(now)) throw ApiException.unauthorized("The access token is invalid or expired.");
        // Never kept longer than API Gateway keeps a connection, and never past the token's exp.
        Instant until = exp.isBefore(now.plus(MAX_CONNECTION)) ? exp : now.plus(MAX_CONNECTION);
        LiveConnection connection = LiveConnection.of(connectionId, new StreamCredential(viewer, until), sourceIp, now);
        // Capped like SSE streams: one client's sockets must not take every push the fan-out can make.
        // Counted from the table (every process's connections); concurrent handshakes may overshoot by their number.
        long open = store.ofClient(viewer.clientId()).stream().filter(c -> c.expiresAt().isAfter(now)).count();
        if (open >= maxPerClient) {
            throw ApiException.tooManyRequests("This client has " + maxPerClient
                    + " WebSocket connections open already; close one first.", 5, Map.of());
        }
        rateLimits.forClient(viewer, RouteClass.READ, 1, () -> {
            store.put(connection);
            return APIGatewayV2HTTPResponse.builder().withStatusCode(200).withHeaders(Map.of()).build();
        });
        return connection;
    }

    public void disconnect(String connectionId) {
        store.delete(connectionId);
    }

    /**
     * For {@code CredentialChanges}: after any change of {@code clientId}'s credentials (rotation, disable,
     * erasure, allowlist), its connection rows are deleted, so the fan-out pushes nothing more to them,
     * and each socket is closed where {@code @connections} is reachable; a client still entitled
     * reconnects with its token. Returns the connection ids removed.
     */
    public List<String> closeAllFor(String clientId) {
        List<String> closed = store.ofClient(clientId).stream().map(LiveConnection::connectionId).toList();
        for (String id : closed) {
            store.delete(id);
            sockets.ifPresent(s -> {
                if (s.close(id) == LiveConnections.Delivery.FAILED) LOG.warn("closing a connection of a changed client failed");
            });
        }
        return closed;
    }
}
