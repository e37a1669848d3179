package dev.usagetracker.http;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every status code and header the API sends is decided here. */
public final class Responses {
    private Responses() {}

    public static APIGatewayV2HTTPResponse json(int status, Object body) {
        return json(status, body, Map.of());
    }

    public static APIGatewayV2HTTPResponse json(int status, Object body, Map<String, String> extraHeaders) {
        Map<String, String> headers = baseHeaders("application/json");
        headers.putAll(extraHeaders);
        return response(status, headers, Json.write(body));
    }

    /** A response with more headers (e.g. the rate-limit fields); headers it already has win. */
    /** A body that is already JSON (a cached answer), sent as it is. */
    public static APIGatewayV2HTTPResponse rawJson(int status, String json, Map<String, String> extraHeaders) {
        Map<String, String> headers = baseHeaders("application/json");
        headers.putAll(extraHeaders);
        return response(status, headers, json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A text body of another media type (an export's CSV or NDJSON). */
    public static APIGatewayV2HTTPResponse text(int status, String contentType, String body, Map<String, String> extraHeaders) {
        Map<String, String> headers = baseHeaders(contentType);
        headers.putAll(extraHeaders);
        return response(status, headers, body.getBytes(StandardCharsets.UTF_8));
    }

    public static APIGatewayV2HTTPResponse withHeaders(APIGatewayV2HTTPResponse response, Map<String, String> extra) {
        if (extra.isEmpty()) return response;
        Map<String, String> headers = new LinkedHashMap<>(extra);
        if (response.getHeaders() != null) headers.putAll(response.getHeaders());
        response.setHeaders(headers);
        return response;
    }

    /** RFC 9457 problem details; the instance is the request id so a report can be traced. */
    public static APIGatewayV2HTTPResponse problem(ApiException e, String requestId) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "https://usage-tracker.dev/problems/" + e.type());
        body.put("title", e.title());
        body.put("status", e.status());
        body.put("detail", e.getMessage());
        body.put("instance", requestId == null || requestId.isEmpty() ? "urn:request:unknown" : "urn:request:" + requestId);
        if (!e.errors().isEmpty()) body.put("errors", e.errors());
        Map<String, String> headers = baseHeaders("application/problem+json");
        headers.putAll(e.headers());
        return response(e.status(), headers, Json.write(body));
    }

    public static APIGatewayV2HTTPResponse internalError(String requestId) {
        return problem(new ApiException(500, "internal-error", "Internal server error",
                "The request could not be completed; it has been logged with its request id.",
                List.of(), Map.of()), requestId);
    }

    /** 204: the security headers, no body and no Content-Type. */
    public static APIGatewayV2HTTPResponse noContent() {
        Map<String, String> headers = baseHeaders("");
        headers.remove("Content-Type");
        return response(204, headers, new byte[0]);
    }

    private static Map<String, String> baseHeaders(String contentType) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", contentType);
        headers.put("Cache-Control", "no-store");
        headers.put("X-Content-Type-Options", "nosniff");
        // An API answers data, never pages: no framing, no scripts, no referrers, HTTPS only.
        headers.put("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
        headers.put("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        headers.put("X-Frame-Options", "DENY");
        headers.put("Referrer-Policy", "no-referrer");
        return headers;
    }

    private static APIGatewayV2HTTPResponse response(int status, Map<String, String> headers, byte[] body) {
        return APIGatewayV2HTTPResponse.builder()
                .withStatusCode(status)
                .withHeaders(headers)
                .withBody(new String(body, StandardCharsets.UTF_8))
                .withIsBase64Encoded(false)
                .build();
    }
}
