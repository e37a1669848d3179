package dev.usagetracker.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Json;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code Idempotency-Key} of a {@code POST /api/logs} and a fingerprint of what it was sent with.
 * The fingerprint is a SHA-256 of the body in canonical form (object keys sorted, the {@code api_key}
 * left out so a rotated key does not make the same hits "different"), so re-sending the same JSON with
 * other whitespace or key order is the same request.
 */
public record IdempotencyKey(String value, String requestHash) {
    public static final String HEADER = "Idempotency-Key";
    static final int MAX_LENGTH = 255;

    /** The key of a request, if it has one; a malformed key is a 400, never silently ignored. */
    public static Optional<IdempotencyKey> from(HttpRequest request) {
        String raw = request.headers().get(HEADER);
        if (raw == null) return Optional.empty();
        // Only the optional whitespace HTTP allows around a value is removed (RFC 9110 §5.5); a control
        // character anywhere, even at an end, is a 400 rather than trimmed away.
        String value = raw.replaceAll("^[ \t]+|[ \t]+$", "");
        if (value.isEmpty() || value.length() > MAX_LENGTH || !value.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw ApiException.validation(List.of(new ApiException.FieldError(HEADER,
                    "must be 1 to " + MAX_LENGTH + " visible ASCII characters, e.g. a UUID")));
        }
        return Optional.of(new IdempotencyKey(value, fingerprint(request.jsonBody().node())));
    }

    static String fingerprint(JsonNode body) {
        JsonNode copy = body.deepCopy();
        if (copy instanceof ObjectNode object) object.remove("api_key");
        try {
            Object plain = Json.MAPPER.treeToValue(copy, Object.class);
            byte[] canonical = Json.MAPPER.writer().with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).writeValueAsBytes(plain);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (com.fasterxml.jackson.core.JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot fingerprint a request body", e);
        }
    }

    /** The 422 for a key reused with another body: the first request's hits stand, these are refused. */
    static ApiException reusedWithAnotherBody() {
        return new ApiException(422, "idempotency-key-reused", "Idempotency-Key reused",
                "This Idempotency-Key was already used with a different request body in the last 24 hours; "
                        + "use a new key for new hits.", List.of(), Map.of());
    }
}
