package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2CustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.SimpleIAMPolicyResponse;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.sun.net.httpserver.HttpExchange;
import javax.net.ssl.SSLContext;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Responses;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An API Gateway HTTP API (payload format 2.0) in front of the function pools: it turns each request
 * into the event API Gateway would send (request context, source IP from the socket peer, headers,
 * query string) and the function's response back into HTTP. HTTP itself is Jetty's (one server, a plain
 * and an HTTPS connector): what Jetty refuses before a request exists is answered problem+json by
 * {@link ProblemErrorHandler}, slow clients are cut off by {@link RequestDeadlines}, and the handler code
 * sees each request as an {@link HttpExchange} ({@link JettyExchange}).
 */
public final class HttpApiGateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApiGateway.class);
    /** API Gateway HTTP APIs reject larger payloads before any function runs. */
    static final int MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
    private static final DateTimeFormatter REQUEST_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * On every answer of this server — functions, SSE, /docs, /openapi.json, /metrics, /health — unless
     * the route sets its own (pages set a Content-Security-Policy that lets their own scripts run).
     */
    static final Map<String, String> SECURITY_HEADERS = Map.of(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options", "nosniff",
            "X-Frame-Options", "DENY",
            "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'",
            "Referrer-Policy", "no-referrer");

    private final Map<String, FunctionPool> routes = new LinkedHashMap<>();
    private final Map<String, LocalRoute> localRoutes = new LinkedHashMap<>();
    private final Map<String, StreamingRoute> streamingRoutes = new LinkedHashMap<>();
    private final RuntimeMetrics metrics = new RuntimeMetrics();
    private final Map<String, FunctionPool> authorizers = new LinkedHashMap<>();
    /** How long a keep-alive connection may sit idle, or a request or answer stall, before Jetty closes it. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a surplus platform thread of the gateway's pool idles before it ends. */
    static final int POOL_IDLE_MILLIS = 2_000;
    /** Request headers over this are 431 (the JDK server took far more; the tests send a 20 KB bearer token). */
    static final int MAX_REQUEST_HEADER_BYTES = 64 * 1024;
    /**
     * Jetty's default URI rules, except that ambiguous paths ({@code ..%2F}, {@code %2e%2e}, {@code //},
     * {@code ;}) reach the routes as they are, as with API Gateway: none matches a route, so they are 404.
     */
    static final UriCompliance URI_COMPLIANCE = UriCompliance.DEFAULT.with("API_GATEWAY",
            UriCompliance.Violation.AMBIGUOUS_PATH_SEGMENT, UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT,
            UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR, UriCompliance.Violation.AMBIGUOUS_PATH_PARAMETER,
            UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING);

    private final Server jetty;
    private final RequestDeadlines deadlines;
    private ServerConnector server;
    private ServerConnector httpsServer;

    /** {@code port} &lt; 0 means no plain-HTTP listener (HTTPS only). */
    public HttpApiGateway(String host, int port, List<FunctionPool> pools) throws IOException {
        this(host, port, pools, Duration.ofSeconds(RequestDeadlines.DEFAULT_SECONDS));
    }

    /** {@code requestTimeout}: how long a client may take to send a whole request (line, headers, body). */
    public HttpApiGateway(String host, int port, List<FunctionPool> pools, Duration requestTimeout) throws IOException {
        Map<String, FunctionPool> byId = new LinkedHashMap<>();
        pools.forEach(p -> byId.put(p.function().logicalId(), p));
        for (FunctionPool pool : pools) {
            for (SamTemplate.HttpRoute route : pool.function().routes()) {
                routes.put(route.method() + " " + route.path(), pool);
                route.authorizer().ifPresent(a -> authorizers.put(route.method() + " " + route.path(),
                        java.util.Objects.requireNonNull(byId.get(a), "authorizer function " + a)));
            }
        }
        // Platform threads only for Jetty's acceptors and selectors (requests run on virtual threads below):
        // no reserved threads parked for a minute, and what a burst added leaves within seconds of idling.
        QueuedThreadPool threads = new QueuedThreadPool(64, 2, POOL_IDLE_MILLIS, 0, null, null);
        threads.setMaxEvictCount(64);
        threads.setName("local-gateway");
        threads.setDaemon(true);
        // a request (and an SSE stream) blocks its thread: a virtual one, as with the JDK server before
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        jetty = new Server(threads);
        jetty.setErrorHandler(new ProblemErrorHandler());
        deadlines = new RequestDeadlines(requestTimeout, IDLE_TIMEOUT, jetty.getScheduler());
        jetty.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                return serve(request, response, callback);
            }
        });
        if (port >= 0) server = connector(host, port, null);
    }

    /** Also serve HTTPS (TLS 1.2+ only) on {@code port}. */
    public HttpApiGateway withHttps(String host, int port, SSLContext tls) throws IOException {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls);
        ssl.setIncludeProtocols(LocalTls.PROTOCOLS);
        ssl.setIncludeCipherSuites(LocalTls.cipherSuites(tls.getDefaultSSLParameters().getCipherSuites()));
        httpsServer = connector(host, port, ssl);
        return this;
    }

    /** Binds {@code port} now (as the JDK server did), serving once {@link #start} runs. */
    private ServerConnector connector(String host, int port, SslContextFactory.Server ssl) throws IOException {
        HttpConfiguration http = new HttpConfiguration();
        // no "Server: Jetty(…)" banner, no X-Powered-By
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(MAX_REQUEST_HEADER_BYTES);
        http.setUriCompliance(URI_COMPLIANCE);
        ServerConnector connector;
        if (ssl == null) {
            connector = new ServerConnector(jetty, 1, 1, new HttpConnectionFactory(http));
        } else {
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false); // a self-signed localhost certificate, reached as 127.0.0.1 too
            http.addCustomizer(secure);
            HttpConnectionFactory http11 = new HttpConnectionFactory(http);
            connector = new ServerConnector(jetty, 1, 1, new SslConnectionFactory(ssl, http11.getProtocol()), http11);
        }
        connector.setHost(host);
        connector.setPort(port);
        connector.setAcceptQueueSize(512);
        connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
        connector.addEventListener(deadlines);
        jetty.addConnector(connector);
        connector.open();
        return connector;
    }

    public void start() {
        try {
            jetty.start();
        } catch (Exception e) {
            throw new IllegalStateException("the HTTP gateway did not start", e);
        }
    }

    /** The plain-HTTP port, or -1 in HTTPS-only mode. */
    public int port() {
        return server == null ? -1 : server.getLocalPort();
    }

    public int httpsPort() {
        return httpsServer == null ? -1 : httpsServer.getLocalPort();
    }

    /** How long a client may take to send a whole request. */
    public Duration requestTimeout() {
        return deadlines.deadline();
    }

    /** Jetty's side of one request: the request as an {@link HttpExchange} for {@link #handle}. */
    private boolean serve(Request request, Response response, Callback callback) {
        URI uri;
        try {
            uri = URI.create(request.getHttpURI().getPathQuery());
        } catch (RuntimeException e) {
            // a target Jetty parsed but java.net.URI cannot hold
            Response.writeError(request, response, callback, 400, "Invalid request target");
            return true;
        }
        JettyExchange exchange = new JettyExchange(request, response, uri, deadlines.clockOf(request));
        try {
            handle(exchange);
        } catch (IOException | RuntimeException e) {
            LOG.debug("request ended early", e);
        }
        exchange.complete(callback);
        return true;
    }

    public Map<String, FunctionPool> routes() {
        return routes;
    }

    /** A route the runtime answers itself (documentation, metrics): not a function, not on AWS. */
    @FunctionalInterface
    public interface LocalRoute {
        LocalResponse handle(String path);
    }

    public record LocalResponse(int status, String contentType, byte[] body, Map<String, String> headers) {
        public LocalResponse(int status, String contentType, byte[] body) {
            this(status, contentType, body, Map.of());
        }
    }

    /**
     * A route the runtime serves itself with a long-lived response (SSE): it gets the API Gateway event
     * the request would have been, and either answers it (a refusal) or takes over the exchange and
     * streams until the client leaves, returning null.
     */
    @FunctionalInterface
    public interface StreamingRoute {
        APIGatewayV2HTTPResponse serve(APIGatewayV2HTTPEvent event, HttpExchange exchange) throws IOException;
    }

    /** {@code path} is exact, or a prefix when it ends with '/'; function routes win over local ones. */
    public void addLocalRoute(String method, String path, LocalRoute route) {
        localRoutes.put(method + " " + path, route);
    }

    /** An exact path; function routes win over it. */
    public void addStreamingRoute(String method, String path, StreamingRoute route) {
        streamingRoutes.put(method + " " + path, route);
    }

    public Map<String, LocalRoute> localRoutes() {
        return localRoutes;
    }

    public RuntimeMetrics metrics() {
        return metrics;
    }

    private LocalRoute localRoute(String requestMethod, String path) {
        // HEAD is GET without the body (RFC 9110 §9.3.2); the response writer leaves the body out.
        String method = "HEAD".equals(requestMethod) ? "GET" : requestMethod;
        LocalRoute exact = localRoutes.get(method + " " + path);
        if (exact != null) return exact;
        return localRoutes.entrySet().stream()
                .filter(e -> e.getKey().endsWith("/") && (method + " " + path).startsWith(e.getKey()))
                .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String requestId = requestId();
        try (exchange) {
            SECURITY_HEADERS.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
            String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
            String path = exchange.getRequestURI().getRawPath();
            FunctionPool pool = routes.get(method + " " + path);
            // Routes with path parameters ({client_id}) match when no static route does, as in API Gateway.
            Map<String, String> pathParameters = null;
            String templateKey = method + " " + path;
            if (pool == null) {
                for (Map.Entry<String, FunctionPool> route : routes.entrySet()) {
                    Map<String, String> matched = matchTemplate(route.getKey(), method, path);
                    if (matched != null) {
                        pool = route.getValue();
                        pathParameters = matched;
                        templateKey = route.getKey();
                        break;
                    }
                }
            }
            StreamingRoute streaming = pool == null ? streamingRoutes.get(method + " " + path) : null;
            if (streaming != null) {
                APIGatewayV2HTTPResponse answer = streaming.serve(event(exchange, method, path, new byte[0], requestId, null), exchange);
                if (answer != null) write(exchange, requestId, method + " " + path, answer);
                else metrics.record(method + " " + path, 200);
                return;
            }
            LocalRoute local = pool == null ? localRoute(method, path) : null;
            if (local != null) {
                writeLocal(exchange, requestId, method, path, local.handle(path));
                return;
            }
            if (pool == null) {
                boolean pathExists = routes.keySet().stream().anyMatch(k -> k.endsWith(" " + path))
                        || streamingRoutes.keySet().stream().anyMatch(k -> k.endsWith(" " + path));
                // A 405 says what the path does accept (RFC 9110 §15.5.6).
                write(exchange, requestId, "unmatched", Responses.problem(pathExists
                        ? ApiException.methodNotAllowed("This path does not accept " + method + ".")
                                .withHeaders(Map.of("Allow", allowed(path)))
                        : ApiException.notFound("No route for " + method + " " + path + "."), requestId));
                return;
            }
            // A declared length over the functions' limit is refused before one byte of it is read.
            if (declaredLength(exchange) > dev.usagetracker.http.HttpRequest.MAX_BODY_BYTES) {
                exchange.getResponseHeaders().set("Connection", "close");
                write(exchange, requestId, method + " " + path, Responses.problem(ApiException.payloadTooLarge(
                        "The request body is larger than " + dev.usagetracker.http.HttpRequest.MAX_BODY_BYTES + " bytes."), requestId));
                return;
            }
            byte[] body = readBody(exchange.getRequestBody());
            if (body == null) {
                write(exchange, requestId, method + " " + path, Responses.problem(ApiException.payloadTooLarge("Request bodies are limited to 10 MB."), requestId));
                return;
            }
            APIGatewayV2HTTPEvent event = event(exchange, method, path, body, requestId, pool);
            if (pathParameters != null) {
                event.setPathParameters(pathParameters);
                event.setRouteKey(templateKey);
                event.getRequestContext().setRouteKey(templateKey);
            }
            FunctionPool authorizer = authorizers.get(templateKey);
            if (authorizer != null && !authorize(authorizer, event, exchange, requestId)) return;
            APIGatewayV2HTTPResponse response;
            try {
                response = (APIGatewayV2HTTPResponse) pool.invoke(event);
            } catch (FunctionPool.Throttled e) {
                // Saturated, not broken: a clear "not acknowledged, retry later", never a bare 500 (issue 30).
                LOG.warn("{} on request {}", e.getMessage(), requestId);
                response = Responses.problem(ApiException.unavailable(
                        "The service is saturated; nothing of this request was acknowledged. Retry it later.", 5), requestId);
            } catch (Exception e) {
                // What API Gateway answers when the integration fails: 500, no details.
                LOG.error("{} failed on request {}", pool.function().logicalId(), requestId, e);
                response = Responses.internalError(requestId);
            }
            write(exchange, requestId, templateKey, response);
        } catch (IOException e) {
            LOG.debug("client went away during request {}", requestId);
        } catch (RuntimeException | LinkageError e) {
            // A bug in the gateway itself: answer like API Gateway would, never drop the connection.
            LOG.error("gateway failure on request {}", requestId, e);
            try {
                writeGatewayMessage(exchange, requestId, 500, "Internal Server Error");
            } catch (IOException | RuntimeException ignored) {
                // the response may already have started
            }
        }
    }

    /** The decoded path parameters if {@code method path} matches the templated route key, else null. */
    static Map<String, String> matchTemplate(String routeKey, String method, String path) {
        if (!routeKey.contains("{") || !routeKey.startsWith(method + " ")) return null;
        String[] template = routeKey.substring(method.length() + 1).split("/", -1);
        String[] actual = path.split("/", -1);
        if (template.length != actual.length) return null;
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < template.length; i++) {
            String t = template[i];
            if (t.startsWith("{") && t.endsWith("}")) {
                if (actual[i].isEmpty()) return null;
                parameters.put(t.substring(1, t.length() - 1), decode(actual[i]));
            } else if (!t.equals(actual[i])) {
                return null;
            }
        }
        return parameters;
    }

    /**
     * Runs the route's Lambda REQUEST authorizer as API Gateway does (payload 2.0, simple responses):
     * a denial is API Gateway's bare 403, an authorizer failure its bare 500; otherwise the context is
     * attached to the route's event. Returns whether the route may run.
     */
    private boolean authorize(FunctionPool authorizer, APIGatewayV2HTTPEvent event, HttpExchange exchange,
                              String requestId) throws IOException {
        var ctx = event.getRequestContext();
        APIGatewayV2CustomAuthorizerEvent request = APIGatewayV2CustomAuthorizerEvent.builder()
                .withVersion("2.0")
                .withType("REQUEST")
                .withRouteArn("arn:aws:execute-api:" + Emulators.REGION + ":" + Emulators.ACCOUNT + ":local/$default/"
                        + ctx.getHttp().getMethod() + event.getRawPath())
                .withRouteKey(event.getRouteKey())
                .withRawPath(event.getRawPath())
                .withRawQueryString(event.getRawQueryString())
                .withHeaders(event.getHeaders())
                .withQueryStringParameters(event.getQueryStringParameters())
                .withRequestContext(APIGatewayV2CustomAuthorizerEvent.RequestContext.builder()
                        .withAccountId(ctx.getAccountId())
                        .withApiId(ctx.getApiId())
                        .withDomainName(ctx.getDomainName())
                        .withDomainPrefix(ctx.getDomainPrefix())
                        .withRequestId(requestId)
                        .withRouteKey(event.getRouteKey())
                        .withStage(ctx.getStage())
                        .withTimeEpoch(ctx.getTimeEpoch())
                        .withHttp(APIGatewayV2CustomAuthorizerEvent.Http.builder()
                                .withMethod(ctx.getHttp().getMethod())
                                .withPath(ctx.getHttp().getPath())
                                .withProtocol(ctx.getHttp().getProtocol())
                                .withSourceIp(ctx.getHttp().getSourceIp())
                                .withUserAgent(ctx.getHttp().getUserAgent())
                                .build())
                        .build())
                .build();
        SimpleIAMPolicyResponse verdict;
        try {
            verdict = (SimpleIAMPolicyResponse) authorizer.invoke(request);
        } catch (Exception e) {
            LOG.error("{} failed on request {}", authorizer.function().logicalId(), requestId, e);
            writeGatewayMessage(exchange, requestId, 500, "Internal Server Error");
            return false;
        }
        if (verdict == null || !verdict.getIsAuthorized()) {
            writeGatewayMessage(exchange, requestId, 403, "Forbidden");
            return false;
        }
        Map<String, Object> context = new LinkedHashMap<>();
        if (verdict.getContext() != null) context.putAll(verdict.getContext());
        ctx.setAuthorizer(APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withLambda(context).build());
        return true;
    }

    /** API Gateway's own answers are {@code {"message": …}}, not problem+json. */
    private void writeGatewayMessage(HttpExchange exchange, String requestId, int status, String message)
            throws IOException {
        write(exchange, requestId, exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath(), APIGatewayV2HTTPResponse.builder().withStatusCode(status)
                .withHeaders(Map.of("Content-Type", "application/json"))
                .withBody("{\"message\":\"" + message + "\"}").build());
    }

    private static APIGatewayV2HTTPEvent event(HttpExchange exchange, String method, String path, byte[] body,
                                               String requestId, FunctionPool pool) {
        Map<String, String> headers = new LinkedHashMap<>();
        exchange.getRequestHeaders().forEach((name, values) ->
                headers.put(name.toLowerCase(Locale.ROOT), String.join(",", values)));
        String rawQuery = exchange.getRequestURI().getRawQuery();
        Map<String, String> query = new LinkedHashMap<>();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) continue;
                String[] kv = pair.split("=", 2);
                String k = decode(kv[0]);
                String v = kv.length > 1 ? decode(kv[1]) : "";
                query.merge(k, v, (a, b) -> a + "," + b);
            }
        }
        String contentType = headers.getOrDefault("content-type", "").toLowerCase(Locale.ROOT);
        boolean text = contentType.isEmpty() || contentType.startsWith("text/") || contentType.contains("json")
                || contentType.contains("xml") || contentType.contains("x-www-form-urlencoded");
        // Bytes that are not UTF-8 travel base64-encoded, as API Gateway sends what it cannot pass as
        // text: decoding them here would replace them silently, and the function must see them to refuse them.
        if (text && body.length > 0 && !dev.usagetracker.http.UnicodeText.isUtf8(body)) text = false;
        Instant now = Instant.now();
        String routeKey = method + " " + path;
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRouteKey(routeKey)
                .withRawPath(path)
                .withRawQueryString(rawQuery == null ? "" : rawQuery)
                .withHeaders(headers)
                .withQueryStringParameters(query.isEmpty() ? null : query)
                .withBody(body.length == 0 ? null : text ? new String(body, StandardCharsets.UTF_8)
                        : Base64.getEncoder().encodeToString(body))
                .withIsBase64Encoded(body.length > 0 && !text)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withAccountId(Emulators.ACCOUNT)
                        .withApiId("local")
                        .withDomainName(headers.getOrDefault("host", "127.0.0.1"))
                        .withDomainPrefix("local")
                        .withRequestId(requestId)
                        .withRouteKey(routeKey)
                        .withStage("$default")
                        .withTime(REQUEST_TIME.format(now))
                        .withTimeEpoch(now.toEpochMilli())
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                                .withMethod(method)
                                .withPath(path)
                                .withProtocol(exchange.getProtocol())
                                // The socket peer, never a header: clients cannot choose their source IP.
                                .withSourceIp(exchange.getRemoteAddress().getAddress().getHostAddress())
                                .withUserAgent(headers.getOrDefault("user-agent", ""))
                                .build())
                        .build())
                .build();
    }

    private void writeLocal(HttpExchange exchange, String requestId, String method, String path, LocalResponse response)
            throws IOException {
        exchange.getResponseHeaders().set("Content-Type", response.contentType());
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        exchange.getResponseHeaders().set("apigw-requestid", requestId);
        response.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        metrics.record(localLabel(method, path), response.status());
        byte[] body = response.body();
        exchange.sendResponseHeaders(response.status(), body.length == 0 || "HEAD".equals(method) ? -1 : body.length);
        if (body.length > 0 && !"HEAD".equals(method)) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private void write(HttpExchange exchange, String requestId, String route, APIGatewayV2HTTPResponse response) throws IOException {
        byte[] body = response.getBody() == null ? new byte[0]
                : response.getIsBase64Encoded() ? Base64.getDecoder().decode(response.getBody())
                : response.getBody().getBytes(StandardCharsets.UTF_8);
        if (response.getHeaders() != null) response.getHeaders().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        if (response.getMultiValueHeaders() != null) {
            response.getMultiValueHeaders().forEach((k, v) -> exchange.getResponseHeaders().put(k, List.copyOf(v)));
        }
        exchange.getResponseHeaders().set("apigw-requestid", requestId);
        int status = response.getStatusCode() == 0 ? 200 : response.getStatusCode();
        metrics.record(route, status);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The methods a path accepts, for the Allow header of a 405. */
    private String allowed(String path) {
        java.util.TreeSet<String> methods = new java.util.TreeSet<>();
        java.util.stream.Stream.of(routes.keySet(), streamingRoutes.keySet()).flatMap(java.util.Collection::stream)
                .filter(k -> k.endsWith(" " + path))
                .forEach(k -> methods.add(k.substring(0, k.indexOf(' '))));
        // the runtime's own pages answer HEAD as GET; function routes only the methods they declare
        localRoutes.keySet().stream()
                .filter(k -> k.endsWith(" " + path) || (k.endsWith("/") && path.startsWith(k.substring(k.indexOf(' ') + 1))))
                .forEach(k -> {
                    String m = k.substring(0, k.indexOf(' '));
                    methods.add(m);
                    if (m.equals("GET")) methods.add("HEAD");
                });
        return String.join(", ", methods);
    }

    /** The Content-Length the client declared, -1 if none, Long.MAX_VALUE if it is not a number. */
    private static long declaredLength(HttpExchange exchange) {
        String v = exchange.getRequestHeaders().getFirst("Content-Length");
        if (v == null) return -1;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * The metrics label of a local route: its registered key ("GET /docs/*" for every file under /docs/),
     * never the raw path, so that the set of counters stays bounded whatever paths clients ask for.
     */
    private String localLabel(String method, String path) {
        String m = "HEAD".equals(method) ? "GET" : method;
        if (localRoutes.containsKey(m + " " + path)) return method + " " + path;
        return localRoutes.keySet().stream()
                .filter(k -> k.endsWith("/") && (m + " " + path).startsWith(k))
                .map(k -> method + k.substring(m.length()) + "*").findFirst().orElse("unmatched");
    }

    /** The body, or null if it is over API Gateway's limit. */
    private static byte[] readBody(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_PAYLOAD_BYTES + 1);
        return body.length > MAX_PAYLOAD_BYTES ? null : body;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    /** 16 URL-safe random characters: request ids here, connection ids of the WebSocket emulation. */
    static String requestId() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.debug("stopping the HTTP gateway", e);
        }
        // bound but never started: stop() leaves them open
        if (server != null) server.close();
        if (httpsServer != null) httpsServer.close();
    }
}
