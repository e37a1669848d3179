package dev.usagetracker.http;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The parts of an API Gateway HTTP API (payload 2.0) event the services need, with header names
 * case-insensitive and the body decoded. The source IP comes only from the request context, never
 * from a header a client can set.
 */
public record HttpRequest(String method, String path, Map<String, String> headers, Map<String, String> query,
                          byte[] body, String sourceIp, String requestId, Map<String, Object> authorizerContext,
                          Map<String, String> pathParameters) {

    /** API Gateway HTTP APIs accept 10 MB; this service takes at most 256 KiB per request. */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    /** A request on a route without path parameters. */
    public HttpRequest(String method, String path, Map<String, String> headers, Map<String, String> query,
                       byte[] body, String sourceIp, String requestId, Map<String, Object> authorizerContext) {
        this(method, path, headers, query, body, sourceIp, requestId, authorizerContext, Map.of());
    }

    public static HttpRequest from(APIGatewayV2HTTPEvent event) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (event.getHeaders() != null) headers.putAll(event.getHeaders());
        Map<String, String> query = event.getQueryStringParameters() == null
                ? Map.of() : Map.copyOf(event.getQueryStringParameters());
        String raw = event.getBody();
        byte[] body = raw == null ? new byte[0]
                : event.getIsBase64Encoded() ? Base64.getDecoder().decode(raw) : raw.getBytes(StandardCharsets.UTF_8);
        var ctx = event.getRequestContext();
        String method = ctx != null && ctx.getHttp() != null ? ctx.getHttp().getMethod() : "GET";
        String ip = ctx != null && ctx.getHttp() != null ? ctx.getHttp().getSourceIp() : null;
        String requestId = ctx != null ? ctx.getRequestId() : null;
        // Only API Gateway can set the authorizer context; a client cannot forge it.
        Map<String, Object> authorizer = new java.util.HashMap<>();
        if (ctx != null && ctx.getAuthorizer() != null && ctx.getAuthorizer().getLambda() != null) {
            ctx.getAuthorizer().getLambda().forEach((k, v) -> {
                if (k != null && v != null) authorizer.put(k, v);
            });
        }
        return new HttpRequest(method == null ? "GET" : method.toUpperCase(Locale.ROOT), event.getRawPath(),
                headers, query, body, ip, requestId == null ? "" : requestId, Map.copyOf(authorizer),
                event.getPathParameters() == null ? Map.of() : event.getPathParameters());
    }

    /** A route's path parameter as API Gateway decoded it ({@code /api/clients/{client_id}}); null if absent. */
    public String pathParameter(String name) {
        return pathParameters.get(name);
    }

    public Optional<String> header(String name) {
        String v = headers.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    public Optional<String> queryParam(String name) {
        String v = query.get(name);
        return v == null ? Optional.empty() : Optional.of(v);
    }

    /** Guards for a JSON body: size (413) before type (415), so a huge body is never parsed. */
    public JsonBody jsonBody() {
        if (body.length > MAX_BODY_BYTES) {
            throw ApiException.payloadTooLarge("The request body is larger than " + MAX_BODY_BYTES + " bytes.");
        }
        String type = header("Content-Type").orElse("");
        String mediaType = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json")) {
            throw ApiException.unsupportedMediaType("Send the body as application/json.");
        }
        // JSON is UTF-8 (RFC 8259 §8.1): another declared charset is refused, not reinterpreted.
        charsetOf(type).filter(c -> !c.equals("utf-8") && !c.equals("utf8")).ifPresent(c -> {
            throw ApiException.unsupportedMediaType("Send the body as application/json in UTF-8 (charset=utf-8 or none).");
        });
        UnicodeText.requireUtf8(body);
        com.fasterxml.jackson.databind.JsonNode node = Json.readTree(body);
        UnicodeText.requireValidStrings(node);
        return new JsonBody(node);
    }

    /**
     * A body the route does not need: absent, {@code {}} and JSON {@code null} all mean "none given" —
     * generated clients (openapi-generator's Java client) send {@code null} for an omitted optional body.
     * Anything else goes through {@link #jsonBody()}'s checks.
     */
    public Optional<JsonBody> optionalJsonBody() {
        if (body.length == 0 || isJsonNull(body)) return Optional.empty();
        return Optional.of(jsonBody());
    }

    private static boolean isJsonNull(byte[] body) {
        return body.length <= 64 && new String(body, java.nio.charset.StandardCharsets.US_ASCII).strip().equals("null");
    }

    /** The charset parameter of a Content-Type, lower-cased and unquoted, if there is one. */
    static Optional<String> charsetOf(String contentType) {
        String[] parts = contentType.split(";");
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("charset")) {
                String v = kv[1].trim();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) v = v.substring(1, v.length() - 1);
                return Optional.of(v.toLowerCase(Locale.ROOT));
            }
        }
        return Optional.empty();
    }

    /** A parsed JSON object body. */
    public record JsonBody(com.fasterxml.jackson.databind.JsonNode node) {}

    /** Parses an optional integer query parameter within bounds, or the field error that says why not. */
    public int intParam(String name, int fallback, int min, int max) {
        Optional<String> raw = queryParam(name);
        if (raw.isEmpty()) return fallback;
        // ASCII digits only, no sign, no leading zero, nothing around them: "7" — never "+7", "07",
        // "٧" (Integer.parseInt takes any Unicode digit), " 7" or "7\u0000".
        if (raw.get().matches("0|[1-9][0-9]{0,8}")) {
            int v = Integer.parseInt(raw.get());
            if (v >= min && v <= max) return v;
        }
        throw ApiException.validation(java.util.List.of(new ApiException.FieldError(
                name, "must be an integer from " + min + " to " + max)));
    }

    /** An integer query parameter: its name, the value when absent and its inclusive bounds. */
    public record IntParam(String name, int fallback, int min, int max) {}

    /**
     * Several integer parameters at once, in the given order; a 400 names every invalid one in its
     * {@code errors[]}, as a body's validation does, so a client fixes them in one round.
     */
    public int[] intParams(IntParam... params) {
        int[] values = new int[params.length];
        List<ApiException.FieldError> errors = new java.util.ArrayList<>();
        for (int i = 0; i < params.length; i++) {
            IntParam p = params[i];
            try {
                values[i] = intParam(p.name(), p.fallback(), p.min(), p.max());
            } catch (ApiException invalid) {
                errors.addAll(invalid.errors());
            }
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        return values;
    }
}
