package dev.usagetracker.http;

import java.util.List;
import java.util.Map;

/**
 * The few ways a request can fail that a caller must hear about. Each maps to one RFC 9457 problem;
 * the message is the problem's detail and must never contain a secret.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String title;
    private final List<FieldError> errors;
    private final Map<String, String> headers;

    public ApiException(int status, String type, String title, String detail, List<FieldError> errors,
                        Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.errors = List.copyOf(errors);
        this.headers = Map.copyOf(headers);
    }

    public record FieldError(String field, String message) {}

    public int status() { return status; }
    public String type() { return type; }
    public String title() { return title; }
    public List<FieldError> errors() { return errors; }
    public Map<String, String> headers() { return headers; }

    public static ApiException validation(List<FieldError> errors) {
        return new ApiException(400, "validation-error", "Invalid request",
                "The request has " + errors.size() + " invalid field(s).", errors, Map.of());
    }

    public static ApiException badRequest(String detail) {
        return new ApiException(400, "bad-request", "Bad request", detail, List.of(), Map.of());
    }

    public static ApiException unauthorized(String detail) {
        return new ApiException(401, "unauthorized", "Unauthorized", detail, List.of(),
                Map.of("WWW-Authenticate", "Bearer realm=\"usage-tracker\""));
    }

    public static ApiException forbidden(String detail) {
        return new ApiException(403, "forbidden", "Forbidden", detail, List.of(), Map.of());
    }

    /** 403 for every call of a client an admin disabled (its credentials stay, refused until enabled again). */
    public static ApiException clientDisabled(String detail) {
        return new ApiException(403, "client-disabled", "Client disabled", detail, List.of(), Map.of());
    }

    public static ApiException notFound(String detail) {
        return new ApiException(404, "not-found", "Not found", detail, List.of(), Map.of());
    }

    public static ApiException methodNotAllowed(String detail) {
        return new ApiException(405, "method-not-allowed", "Method not allowed", detail, List.of(), Map.of());
    }

    public static ApiException conflict(String detail) {
        return new ApiException(409, "conflict", "Conflict", detail, List.of(), Map.of());
    }

    public static ApiException payloadTooLarge(String detail) {
        return new ApiException(413, "payload-too-large", "Payload too large", detail, List.of(), Map.of());
    }

    public static ApiException unsupportedMediaType(String detail) {
        return new ApiException(415, "unsupported-media-type", "Unsupported media type", detail, List.of(),
                Map.of("Accept", "application/json"));
    }

    /**
     * 429: over a rate limit; {@code headers} carry the rate-limit fields, Retry-After is at least 1 s. Its
     * type is {@code rate-limited}: {@code quota-exceeded} is the monthly quota's (DESIGN.md §2a), whose
     * Retry-After runs to the month's end, and a client must be able to tell the two apart.
     */
    public static ApiException tooManyRequests(String detail, long retryAfterSeconds, Map<String, String> headers) {
        Map<String, String> all = new java.util.LinkedHashMap<>(headers);
        all.put("Retry-After", Long.toString(Math.max(1, retryAfterSeconds)));
        return new ApiException(429, "rate-limited", "Too many requests", detail, List.of(), all);
    }

    /** The same problem with more response headers; headers it already has win. */
    public ApiException withHeaders(Map<String, String> extra) {
        if (extra.isEmpty()) return this;
        Map<String, String> all = new java.util.LinkedHashMap<>(extra);
        all.putAll(headers);
        return new ApiException(status, type, title, getMessage(), errors, all);
    }

    public static ApiException unavailable(String detail, int retryAfterSeconds) {
        return new ApiException(503, "service-unavailable", "Service unavailable", detail, List.of(),
                Map.of("Retry-After", Integer.toString(retryAfterSeconds)));
    }
}
