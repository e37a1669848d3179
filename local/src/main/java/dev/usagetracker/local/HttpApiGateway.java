package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2CustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.SimpleIAMPolicyResponse;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Responses;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An API Gateway HTTP API (payload format 2.0) in front of the function pools: it turns each request
 * into the event API Gateway would send (request context, source IP from the socket peer, headers,
 * query string) and the function's response back into HTTP.
 */
public final class HttpApiGateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApiGateway.class);
    /** API Gateway HTTP APIs reject larger payloads before any function runs. */
    static final int MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
    private static final DateTimeFormatter REQUEST_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, FunctionPool> routes = new LinkedHashMap<>();
    private final Map<String, LocalRoute> localRoutes = new LinkedHashMap<>();
    private final Map<String, StreamingRoute> streamingRoutes = new LinkedHashMap<>();
    private final RuntimeMetrics metrics = new RuntimeMetrics();
    private final Map<String, FunctionPool> authorizers = new LinkedHashMap<>();
    private final HttpServer server;
    private HttpsServer httpsServer;
    private final ExecutorService executor;

    /** {@code port} &lt; 0 means no plain-HTTP listener (HTTPS only). */
    public HttpApiGateway(String host, int port, List<FunctionPool> pools) throws IOException {
        Map<String, FunctionPool> byId = new LinkedHashMap<>();
        pools.forEach(p -> byId.put(p.function().logicalId(), p));
        for (FunctionPool pool : pools) {
            for (SamTemplate.HttpRoute route : pool.function().routes()) {
                routes.put(route.method() + " " + route.path(), pool);
                route.authorizer().ifPresent(a -> authorizers.put(route.method() + " " + route.path(),
                        java.util.Objects.requireNonNull(byId.get(a), "authorizer function " + a)));
            }
        }
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server = port < 0 ? null : HttpServer.create(new InetSocketAddress(host, port), 512);
        if (server != null) {
            server.setExecutor(executor);
            server.createContext("/", this::handle);
        }
    }

    /** Also serve HTTPS (TLS 1.2+ only) on {@code port}. */
    public HttpApiGateway withHttps(String host, int port, SSLContext tls) throws IOException {
        httpsServer = HttpsServer.create(new InetSocketAddress(host, port), 512);
        httpsServer.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = tls.getDefaultSSLParameters();
                p.setProtocols(LocalTls.PROTOCOLS);
                params.setSSLParameters(p);
            }
        });
        httpsServer.setExecutor(executor);
        httpsServer.createContext("/", this::handle);
        return this;
    }

    public void start() {
        if (server != null) server.start();
        if (httpsServer != null) httpsServer.start();
    }

    /** The plain-HTTP port, or -1 in HTTPS-only mode. */
    public int port() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    public int httpsPort() {
        return httpsServer == null ? -1 : httpsServer.getAddress().getPort();
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
            String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
            String path = exchange.getRequestURI().getRawPath();
            String routeKey = routeKey(method, path);
            FunctionPool pool = routes.get(routeKey);
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
                write(exchange, requestId, "unmatched", Responses.problem(pathExists
                        ? ApiException.methodNotAllowed("This path does not accept " + method + ".")
                        : ApiException.notFound("No route for " + method + " " + path + "."), requestId));
                return;
            }
            byte[] body = readBody(exchange.getRequestBody());
            if (body == null) {
                write(exchange, requestId, method + " " + path, Responses.problem(ApiException.payloadTooLarge("Request bodies are limited to 10 MB."), requestId));
                return;
            }
            APIGatewayV2HTTPEvent event = event(exchange, method, path, body, requestId, pool);
            FunctionPool authorizer = authorizers.get(routeKey);
            if (authorizer != null && !authorize(authorizer, event, exchange, requestId)) return;
            APIGatewayV2HTTPResponse response;
            try {
                response = (APIGatewayV2HTTPResponse) pool.invoke(event);
            } catch (Exception e) {
                // What API Gateway answers when the integration fails: 500, no details.
                LOG.error("{} failed on request {}", pool.function().logicalId(), requestId, e);
                response = Responses.internalError(requestId);
            }
            write(exchange, requestId, method + " " + path, response);
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

    /**
     * Runs the route's Lambda REQUEST authorizer as API Gateway does (payload 2.0, simple responses):
     * a denial is API Gateway's bare 403, an authorizer failure its bare 500; otherwise the context is
     * attached to the route's event. Returns whether the route may run.
     */
    /**
     * The route a request matches: its exact path, else a template whose {@code {param}} segments match one
     * non-empty segment each (API Gateway's path variables, e.g. {@code /api/plans/{name}}); exact routes win.
     */
    private String routeKey(String method, String path) {
        String exact = method + " " + path;
        if (routes.containsKey(exact)) return exact;
        String[] segments = path.split("/", -1);
        for (String key : routes.keySet()) {
            if (!key.startsWith(method + " ") || !key.contains("{")) continue;
            String[] template = key.substring(method.length() + 1).split("/", -1);
            if (template.length != segments.length) continue;
            boolean matches = true;
            for (int i = 0; i < template.length && matches; i++) {
                boolean variable = template[i].startsWith("{") && template[i].endsWith("}");
                matches = variable ? !segments[i].isEmpty() : template[i].equals(segments[i]);
            }
            if (matches) return key;
        }
        return exact;
    }

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
        metrics.record(method + " " + path, response.status());
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
        if (server != null) server.stop(0);
        if (httpsServer != null) httpsServer.stop(0);
        executor.shutdownNow();
    }
}
