package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
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
    /** Routes the runtime answers itself, not through a function (health checks). */
    private final Map<String, com.sun.net.httpserver.HttpHandler> localRoutes = new java.util.concurrent.ConcurrentHashMap<>();
    private final HttpServer server;
    private final ExecutorService executor;

    public HttpApiGateway(String host, int port, List<FunctionPool> pools) throws IOException {
        for (FunctionPool pool : pools) {
            for (SamTemplate.HttpRoute route : pool.function().routes()) {
                routes.put(route.method() + " " + route.path(), pool);
            }
        }
        server = HttpServer.create(new InetSocketAddress(host, port), 512);
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public void addLocalRoute(String method, String path, com.sun.net.httpserver.HttpHandler handler) {
        localRoutes.put(method + " " + path, handler);
    }

    public Map<String, FunctionPool> routes() {
        return routes;
    }

    private void handle(HttpExchange exchange) throws IOException {
        String requestId = requestId();
        try (exchange) {
            String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
            String path = exchange.getRequestURI().getRawPath();
            var local = localRoutes.get(method + " " + path);
            if (local != null) {
                local.handle(exchange);
                return;
            }
            FunctionPool pool = routes.get(method + " " + path);
            if (pool == null) {
                boolean pathExists = routes.keySet().stream().anyMatch(k -> k.endsWith(" " + path));
                write(exchange, requestId, Responses.problem(pathExists
                        ? ApiException.methodNotAllowed("This path does not accept " + method + ".")
                        : ApiException.notFound("No route for " + method + " " + path + "."), requestId));
                return;
            }
            byte[] body = readBody(exchange.getRequestBody());
            if (body == null) {
                write(exchange, requestId, Responses.problem(ApiException.payloadTooLarge("Request bodies are limited to 10 MB."), requestId));
                return;
            }
            APIGatewayV2HTTPEvent event = event(exchange, method, path, body, requestId, pool);
            APIGatewayV2HTTPResponse response;
            try {
                response = (APIGatewayV2HTTPResponse) pool.invoke(event);
            } catch (Exception e) {
                // What API Gateway answers when the integration fails: 500, no details.
                LOG.error("{} failed on request {}", pool.function().logicalId(), requestId, e);
                response = Responses.internalError(requestId);
            }
            write(exchange, requestId, response);
        } catch (IOException e) {
            LOG.debug("client went away during request {}", requestId);
        }
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

    private static void write(HttpExchange exchange, String requestId, APIGatewayV2HTTPResponse response) throws IOException {
        byte[] body = response.getBody() == null ? new byte[0]
                : response.getIsBase64Encoded() ? Base64.getDecoder().decode(response.getBody())
                : response.getBody().getBytes(StandardCharsets.UTF_8);
        if (response.getHeaders() != null) response.getHeaders().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        if (response.getMultiValueHeaders() != null) {
            response.getMultiValueHeaders().forEach((k, v) -> exchange.getResponseHeaders().put(k, List.copyOf(v)));
        }
        exchange.getResponseHeaders().set("apigw-requestid", requestId);
        int status = response.getStatusCode() == 0 ? 200 : response.getStatusCode();
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

    private static String requestId() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
