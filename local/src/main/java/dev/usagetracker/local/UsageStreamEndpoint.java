package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.sun.net.httpserver.HttpExchange;
import dev.usagetracker.auth.AccessVerdict;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RouteClass;
import dev.usagetracker.realtime.StreamCredential;
import dev.usagetracker.realtime.StreamTickets;
import dev.usagetracker.realtime.TokenExpiry;
import dev.usagetracker.realtime.UsageStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/usage/stream} in the local runtime (and its container image). Authentication is the
 * one the other {@code /api/usage} routes get from the authorizer — a bearer token, checked for its
 * client and the IP allowlists — or a single-use {@code ?ticket=} standing for such a token; then the
 * client's read quota, then the stream limits. Refusals are the usual problem+json answers.
 */
final class UsageStreamEndpoint implements HttpApiGateway.StreamingRoute {
    static final String PATH = "/api/usage/stream";
    private static final Logger LOG = LoggerFactory.getLogger(UsageStreamEndpoint.class);

    private final Authenticator authenticator;
    private final StreamTickets tickets;
    private final RateLimitGuard rateLimits;
    private final Optional<UsageStream> streams;
    private final TokenExpiry expiry;

    UsageStreamEndpoint(Authenticator authenticator, StreamTickets tickets, RateLimitGuard rateLimits,
                        Optional<UsageStream> streams, TokenExpiry expiry) {
        this.authenticator = authenticator;
        this.expiry = expiry;
        this.tickets = tickets;
        this.rateLimits = rateLimits;
        this.streams = streams;
    }

    @Override
    public APIGatewayV2HTTPResponse serve(APIGatewayV2HTTPEvent event, HttpExchange exchange) throws IOException {
        AtomicReference<UsageStream.Session> admitted = new AtomicReference<>();
        APIGatewayV2HTTPResponse answer = ApiGateway.serve(event, request -> {
            StreamCredential credential = request.queryParam("ticket").isPresent() ? ticketHolder(request) : bearer(request);
            Principal viewer = credential.principal();
            Optional<String> lastEventId = UsageStream.lastEventId(request);
            UsageStream stream = streams.orElseThrow(() ->
                    ApiException.unavailable("Live updates need Redis, and this runtime has none (REDIS_URL).", 60));
            return rateLimits.forClient(viewer, RouteClass.READ, 1, () -> {
                admitted.set(stream.open(credential, lastEventId));
                return APIGatewayV2HTTPResponse.builder().withStatusCode(200).withHeaders(new LinkedHashMap<>(Map.of(
                        "Content-Type", "text/event-stream; charset=utf-8",
                        // Never cached, never buffered by a proxy (nginx honours X-Accel-Buffering).
                        "Cache-Control", "no-store",
                        "X-Accel-Buffering", "no",
                        "X-Content-Type-Options", "nosniff"))).build();
            });
        });
        UsageStream.Session session = admitted.get();
        if (session == null) return answer;
        String sourceIp = event.getRequestContext().getHttp().getSourceIp();
        try (session) {
            if (answer.getStatusCode() != 200) return answer;
            answer.getHeaders().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
            exchange.getResponseHeaders().set("apigw-requestid", event.getRequestContext().getRequestId());
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            UsageStream.End end = session.run(text -> {
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.flush();
            }, () -> authenticator.verdict(session.viewer(), sourceIp).outcome() == AccessVerdict.Outcome.ALLOW);
            LOG.atDebug().addKeyValue("client_id", session.viewer().clientId()).addKeyValue("end", end).log("usage stream ended");
        }
        return null;
    }

    /**
     * The caller the ticket was issued to, checked again as the authorizer would (client, allowlists), with
     * the exp of the token the ticket was issued for.
     */
    private StreamCredential ticketHolder(HttpRequest request) {
        StreamCredential holder = tickets.redeem(request.queryParam("ticket").orElseThrow());
        return new StreamCredential(Authenticator.admitted(authenticator.verdict(holder.principal(), request.sourceIp())),
                holder.expiresAt());
    }

    /** The bearer token's holder and its exp. */
    private StreamCredential bearer(HttpRequest request) {
        Principal holder = authenticator.bearer(request);
        return new StreamCredential(holder, expiry.ofBearer(request));
    }
}
