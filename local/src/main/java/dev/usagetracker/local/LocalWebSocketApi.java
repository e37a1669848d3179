package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import dev.usagetracker.auth.AccessVerdict;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.realtime.ConnectionStore;
import dev.usagetracker.realtime.StreamConnections;
import dev.usagetracker.realtime.StreamSettings;
import dev.usagetracker.realtime.LiveConnection;
import dev.usagetracker.realtime.UsageHub;
import dev.usagetracker.realtime.UsageMessage;
import dev.usagetracker.realtime.UsageUpdate;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API Gateway's WebSocket API on one machine. A handshake becomes the {@code $connect} event the
 * template's function gets on AWS (same jar, same handler: token check, connections table), and its
 * answer decides the upgrade; a closed socket becomes {@code $disconnect}. What differs is the feed:
 * on AWS the Usage table's stream drives the fan-out function, which pushes through
 * {@code @connections}; here the runtime's one Redis subscription delivers the same frames to the
 * connections its table row allows. Each connection ends at the {@code exp} of the token that opened it
 * (scheduled for that instant) and is re-checked every {@link StreamSettings#recheck()} (at most 5 s)
 * with the Authenticator, as SSE streams are: a revoked credential, an address the allowlist no longer
 * admits or a row deleted by a credential change closes it (1008, with the reason).
 * {@code POST/GET/DELETE /@connections/{id}} is served too, so the fan-out function can run against this
 * runtime: only for loopback callers that send the runtime's secret in {@link StreamSettings#CALLBACK_SECRET_HEADER}
 * (compared in constant time; AWS takes SigV4 there), which the runtime gives only to the functions it runs.
 */
public final class LocalWebSocketApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalWebSocketApi.class);
    private static final String CALLBACK = "/@connections/";
    /** API Gateway's idle timeout for WebSocket connections. */
    private static final Duration IDLE = Duration.ofMinutes(10);
    /** The close code of a connection the server ends for its credential (expired, revoked): policy violation. */
    static final int CLOSE_POLICY = 1008;
    private static final DateTimeFormatter REQUEST_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    private final Server server;
    private final ServerConnector connector;
    private final String host;
    private final Map<String, Connection> open = new ConcurrentHashMap<>();
    /** Ids of connections that closed lately: @connections answers 410 Gone for them, 404 for ids never seen. */
    private final Map<String, Instant> closed = java.util.Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
            return size() > 10_000 || eldest.getValue().isBefore(Instant.now().minus(StreamConnections.MAX_CONNECTION));
        }
    });
    private final String secret = newSecret();
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1,
            Thread.ofVirtual().name("websocket-timer-", 0).factory());
    private Map<String, FunctionPool> routes = Map.of();
    private ConnectionStore store;
    private Optional<UsageHub> hub = Optional.empty();
    private Authenticator authenticator;
    private Duration recheck = StreamSettings.DEFAULT_RECHECK;

    private LocalWebSocketApi(String host, int port) {
        this.host = host;
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("local-websocket");
        threads.setDaemon(true);
        server = new Server(threads);
        // No "Server: Jetty(…)" banner: the version helps only an attacker.
        org.eclipse.jetty.server.HttpConfiguration http = new org.eclipse.jetty.server.HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        connector = new ServerConnector(server, 1, 1, new org.eclipse.jetty.server.HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
    }

    /** Binds the port now (functions are told the callback URL before they start), serves after {@link #start}. */
    static LocalWebSocketApi bind(String host, int port) throws IOException {
        LocalWebSocketApi api = new LocalWebSocketApi(host, port);
        api.connector.open();
        return api;
    }

    void start(Map<String, FunctionPool> routes, ConnectionStore store, Optional<UsageHub> hub, Authenticator authenticator,
               StreamSettings settings) throws Exception {
        this.routes = Map.copyOf(routes);
        this.store = store;
        this.hub = hub;
        this.authenticator = authenticator;
        this.recheck = settings.recheck();
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, container -> {
            container.setIdleTimeout(IDLE);
            // A connection that cannot keep up is closed rather than buffered without end.
            container.setMaxOutgoingFrames(1000);
            container.addMapping("/", this::handshake);
        });
        upgrades.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                return callbackApi(request, response, callback);
            }
        });
        server.setHandler(upgrades);
        server.start();
    }

    int port() {
        return connector.getLocalPort();
    }

    /** What clients connect to (on AWS: wss://{api}.execute-api.{region}.amazonaws.com/{stage}). */
    String url() {
        return "ws://" + host + ":" + port();
    }

    /** WEBSOCKET_CALLBACK_URL for functions run by this runtime. */
    String callbackUrl() {
        return "http://" + host + ":" + port();
    }

    /** WEBSOCKET_CALLBACK_SECRET for functions run by this runtime: what @connections requires. */
    String callbackSecret() {
        return secret;
    }

    int openConnections() {
        return open.size();
    }

    private Object handshake(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        try {
            return accept(request, response, callback);
        } catch (RuntimeException e) {
            // Answered here: Jetty would log the request URI, and the query string holds the access token.
            LOG.error("websocket handshake failed ({})", e.getClass().getSimpleName());
            return refuse(response, callback, 500, "Internal server error");
        }
    }

    private Object accept(ServerUpgradeRequest request, ServerUpgradeResponse response, Callback callback) {
        String connectionId = connectionId();
        APIGatewayV2WebSocketResponse answer = invoke("$connect", connectionId, request);
        int status = answer == null || answer.getStatusCode() == 0 ? 500 : answer.getStatusCode();
        if (status / 100 != 2) {
            return refuse(response, callback, status, answer == null ? "Internal server error" : answer.getBody());
        }
        Optional<LiveConnection> row = store.find(connectionId);
        if (row.isEmpty()) {
            LOG.error("$connect accepted connection {} but stored no row for it", connectionId);
            return refuse(response, callback, 500, "Internal server error");
        }
        return new Connection(connectionId, row.get(), Request.getRemoteAddr(request));
    }

    /** A refused handshake is an RFC 9457 problem like every other error of the service. */
    private static Object refuse(ServerUpgradeResponse response, Callback callback, int status, String message) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        String detail = message;
        try {
            // $connect answers with a problem of its own: keep its detail, never echo anything else
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(message == null ? "" : message);
            if (node != null && node.hasNonNull("detail")) detail = node.get("detail").asText();
            else if (node != null && node.hasNonNull("message")) detail = node.get("message").asText();
        } catch (java.io.IOException | RuntimeException notJson) {
            // a plain message
        }
        byte[] body = problem(status, detail == null || detail.isBlank() ? "The WebSocket handshake was refused." : detail, null);
        response.write(true, ByteBuffer.wrap(body), callback);
        return null;
    }

    /**
     * An RFC 9457 problem, as every error of the service. {@code message}, when given, is kept as an
     * extension member: the AWS SDK's REST-JSON error reader takes an @connections error's text from it.
     */
    private static byte[] problem(int status, String detail, String message) {
        String type = switch (status) {
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 410 -> "gone";
            case 429 -> "rate-limited";
            case 503 -> "unavailable";
            default -> status >= 500 ? "internal-error" : "bad-request";
        };
        java.util.Map<String, Object> problem = new java.util.LinkedHashMap<>();
        problem.put("type", "https://usage-tracker.dev/problems/" + type);
        problem.put("title", org.eclipse.jetty.http.HttpStatus.getMessage(status));
        problem.put("status", status);
        problem.put("detail", detail);
        problem.put("instance", "urn:request:" + HttpApiGateway.requestId());
        if (message != null) problem.put("message", message);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(problem);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return "{}".getBytes(StandardCharsets.UTF_8);
        }
    }

    /** One open socket: fed by the runtime's subscription with what its row's audience may see. */
    public final class Connection implements Session.Listener.AutoDemanding {
        private final String connectionId;
        private final LiveConnection row;
        private final String sourceIp;
        private final Instant connectedAt = Instant.now();
        private final AtomicBoolean ended = new AtomicBoolean();
        private volatile Session session;
        private volatile UsageHub.Subscription subscription;
        private volatile ScheduledFuture<?> expiry;
        private volatile ScheduledFuture<?> checks;

        Connection(String connectionId, LiveConnection row, String sourceIp) {
            this.connectionId = connectionId;
            this.row = row;
            this.sourceIp = sourceIp;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            open.put(connectionId, this);
            subscription = hub.map(h -> h.subscribe(this::visible, this::push)).orElse(null);
            // Ends at the token's exp, at that instant; re-checked in between (revocation within `recheck`).
            long untilExpiry = Math.max(0, Duration.between(Instant.now(), row.expiresAt()).toMillis());
            expiry = timers.schedule(() -> close(CLOSE_POLICY, "token expired"), untilExpiry, TimeUnit.MILLISECONDS);
            checks = timers.scheduleWithFixedDelay(this::recheck, recheck.toMillis(), recheck.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** The credential it opened with is asked again: still allowed, from this address, with its row still there. */
        private void recheck() {
            try {
                AccessVerdict verdict = authenticator.verdict(row.principal(), row.sourceIp());
                if (verdict.outcome() != AccessVerdict.Outcome.ALLOW) {
                    close(CLOSE_POLICY, "access revoked");
                } else if (store.find(connectionId).isEmpty()) {
                    close(CLOSE_POLICY, "credentials changed");
                }
            } catch (RuntimeException e) {
                // Fail closed: a connection whose access cannot be checked is not kept open.
                LOG.warn("re-checking websocket connection {} failed ({})", connectionId, e.getClass().getSimpleName());
                close(CLOSE_POLICY, "access cannot be checked");
            }
        }

        private boolean visible(UsageUpdate update) {
            return LiveConnection.EVERYONE.equals(row.audience()) || row.clientId().equals(update.clientId());
        }

        private void push(UsageUpdate update) {
            send(update.isThreshold() ? update.thresholdFrame() : UsageMessage.of(update).frame(update.eventId()), null);
        }

        /** Asynchronous; a failed send closes the socket (it fell behind or is gone). */
        void send(String text, Runnable done) {
            Session s = session;
            if (s == null || !s.isOpen()) return;
            s.sendText(text, org.eclipse.jetty.websocket.api.Callback.from(() -> {
                if (done != null) done.run();
            }, failure -> {
                if (done != null) done.run();
                s.close();
            }));
        }

        @Override
        public void onWebSocketText(String message) {
            // No route but $connect/$disconnect: API Gateway answers a client message like this.
            send("{\"message\": \"Forbidden\", \"connectionId\":\"" + connectionId + "\"}", null);
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            end();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            LOG.debug("websocket connection {} failed: {}", connectionId, cause.getClass().getSimpleName());
            end();
        }

        void close() {
            Session s = session;
            if (s != null) s.close();
        }

        void close(int code, String reason) {
            Session s = session;
            if (s != null && s.isOpen()) s.close(code, reason, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }

        private void end() {
            if (!ended.compareAndSet(false, true)) return;
            ScheduledFuture<?> e = expiry, c = checks;
            if (e != null) e.cancel(false);
            if (c != null) c.cancel(false);
            closed.put(connectionId, Instant.now());
            UsageHub.Subscription sub = subscription;
            if (sub != null) sub.close();
            open.remove(connectionId);
            // Off Jetty's I/O thread: the function call is blocking.
            Thread.ofVirtual().name("websocket-disconnect").start(() -> invoke("$disconnect", connectionId, null));
        }
    }

    private APIGatewayV2WebSocketResponse invoke(String routeKey, String connectionId, ServerUpgradeRequest request) {
        FunctionPool pool = routes.get(routeKey);
        if (pool == null) return routeKey.equals("$connect") ? null : new APIGatewayV2WebSocketResponse();
        try {
            Object answer = pool.invoke(event(routeKey, connectionId, request));
            return answer instanceof APIGatewayV2WebSocketResponse r ? r : null;
        } catch (Exception e) {
            LOG.error("{} failed for connection {}", pool.function().logicalId(), connectionId, e);
            return null;
        }
    }

    /** The event API Gateway sends for a route of a WebSocket API (only $connect carries the handshake). */
    private APIGatewayV2WebSocketEvent event(String routeKey, String connectionId, ServerUpgradeRequest request) {
        APIGatewayV2WebSocketEvent event = new APIGatewayV2WebSocketEvent();
        APIGatewayV2WebSocketEvent.RequestContext ctx = new APIGatewayV2WebSocketEvent.RequestContext();
        Instant now = Instant.now();
        ctx.setRouteKey(routeKey);
        ctx.setEventType(routeKey.equals("$connect") ? "CONNECT" : "DISCONNECT");
        ctx.setConnectionId(connectionId);
        ctx.setApiId("local");
        ctx.setStage("local");
        ctx.setDomainName(host);
        ctx.setAccountId(Emulators.ACCOUNT);
        ctx.setRequestId(connectionId());
        ctx.setMessageDirection("IN");
        ctx.setRequestTime(REQUEST_TIME.format(now));
        ctx.setRequestTimeEpoch(now.toEpochMilli());
        Connection known = open.get(connectionId);
        ctx.setConnectedAt((known == null ? now : known.connectedAt).toEpochMilli());
        APIGatewayV2WebSocketEvent.RequestIdentity identity = new APIGatewayV2WebSocketEvent.RequestIdentity();
        if (request != null) {
            // The socket peer, never a header: clients cannot choose their source IP.
            identity.setSourceIp(Request.getRemoteAddr(request));
            identity.setUserAgent(request.getHeaders().get(HttpHeader.USER_AGENT));
            Map<String, String> headers = new LinkedHashMap<>();
            request.getHeaders().forEach(f -> headers.merge(f.getName(), f.getValue(), (a, b) -> a + "," + b));
            event.setHeaders(headers);
            Fields query = Request.extractQueryParameters(request);
            Map<String, String> params = new LinkedHashMap<>();
            query.forEach(f -> params.put(f.getName(), f.getValue()));
            if (!params.isEmpty()) event.setQueryStringParameters(params);
        } else if (known != null) {
            identity.setSourceIp(known.sourceIp);
        }
        ctx.setIdentity(identity);
        event.setRequestContext(ctx);
        event.setIsBase64Encoded(false);
        return event;
    }

    /** {@code @connections/{id}}: POST a message, GET the connection, DELETE (close) it. */
    private boolean callbackApi(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        if (!path.startsWith(CALLBACK)) {
            return answer(response, callback, 404, "Not Found", null);
        }
        if (!isLoopback(Request.getRemoteAddr(request)) || !hasSecret(request)) {
            return answer(response, callback, 403, "Forbidden", "ForbiddenException");
        }
        String id = path.substring(CALLBACK.length());
        Connection c = open.get(id);
        if (c == null) {
            // As API Gateway: a connection that closed is gone; an id it never issued is not found.
            return closed.containsKey(id) ? answer(response, callback, 410, "Gone", "GoneException")
                    : answer(response, callback, 404, "Not Found", "NotFoundException");
        }
        switch (request.getMethod()) {
            case "POST" -> {
                String body;
                try {
                    body = Content.Source.asString(request, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return answer(response, callback, 400, "Bad Request", "BadRequestException");
                }
                CountDownLatch sent = new CountDownLatch(1);
                AtomicReference<Boolean> ok = new AtomicReference<>(Boolean.TRUE);
                c.send(body, sent::countDown);
                try {
                    if (!sent.await(5, TimeUnit.SECONDS)) ok.set(Boolean.FALSE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ok.set(Boolean.FALSE);
                }
                return ok.get() ? answer(response, callback, 200, "", null)
                        : answer(response, callback, 410, "Gone", "GoneException");
            }
            case "GET" -> {
                return answer(response, callback, 200, "{\"ConnectedAt\":\"" + c.connectedAt + "\",\"Identity\":{\"SourceIp\":\""
                        + c.sourceIp + "\"},\"LastActiveAt\":\"" + Instant.now() + "\"}", null);
            }
            case "DELETE" -> {
                c.close();
                return answer(response, callback, 204, "", null);
            }
            default -> {
                return answer(response, callback, 405, "Method Not Allowed", null);
            }
        }
    }

    /** A success's JSON {@code body}, or for a status of 400 and above a problem whose message is {@code body}. */
    private static boolean answer(Response response, Callback callback, int status, String body, String errorType) {
        response.setStatus(status);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (status >= 400) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.getHeaders().put("X-Content-Type-Options", "nosniff");
            bytes = problem(status, status == 403 ? "This port serves WebSocket connections; @connections is for this runtime's functions only."
                    : status == 404 && errorType == null ? "Nothing here: connect with a WebSocket handshake (?token=<access token>)."
                    : body, body);
        } else {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        }
        // How the SDK tells GoneException from other errors (REST-JSON protocol).
        if (errorType != null) response.getHeaders().put("x-amzn-ErrorType", errorType);
        response.write(true, ByteBuffer.wrap(bytes), callback);
        return true;
    }

    /** The runtime's secret, compared in constant time (a missing header compares as empty). */
    private boolean hasSecret(Request request) {
        String sent = request.getHeaders().get(StreamSettings.CALLBACK_SECRET_HEADER);
        return MessageDigest.isEqual(secret.getBytes(StandardCharsets.UTF_8),
                (sent == null ? "" : sent).getBytes(StandardCharsets.UTF_8));
    }

    private static String newSecret() {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    private static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String connectionId() {
        return HttpApiGateway.requestId();
    }

    @Override
    public void close() {
        timers.shutdownNow();
        try {
            server.stop();
        } catch (Exception e) {
            LOG.debug("websocket server stop: {}", e.getClass().getSimpleName());
        }
    }
}
