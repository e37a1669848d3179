package dev.usagetracker.analytics;

import dev.usagetracker.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque, tamper-proof export cursors: {@code base64url(position) "." base64url(HMAC-SHA-256(binding, position))}.
 * The MAC covers the query the cursor belongs to (caller's client scope, granularity, range, page size),
 * so a cursor edited, forged, or taken from another query or another client is refused with 400.
 */
public final class ExportCursor {
    private static final Base64.Encoder ENCODE = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODE = Base64.getUrlDecoder();
    private final Supplier<byte[]> key;

    /** {@code key} is asked once per cursor; it comes from KMS (an HMAC of a constant), never from a client. */
    public ExportCursor(Supplier<byte[]> key) {
        this.key = key;
    }

    public String encode(ExportQuery query, ExportPage.Position position) {
        byte[] body = (position.clientId() + "\n" + position.period()).getBytes(StandardCharsets.UTF_8);
        return ENCODE.encodeToString(body) + "." + ENCODE.encodeToString(mac(query.binding(), body));
    }

    public ExportPage.Position decode(ExportQuery query, String cursor) {
        try {
            int dot = cursor.indexOf('.');
            if (dot <= 0 || cursor.length() > 1024) throw invalid();
            byte[] body = DECODE.decode(cursor.substring(0, dot));
            byte[] given = DECODE.decode(cursor.substring(dot + 1));
            if (!MessageDigest.isEqual(given, mac(query.binding(), body))) throw invalid();
            String[] parts = new String(body, StandardCharsets.UTF_8).split("\n", -1);
            if (parts.length != 2) throw invalid();
            return new ExportPage.Position(parts[0], parts[1]);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
    }

    private byte[] mac(String binding, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.get(), "HmacSHA256"));
            mac.update(binding.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ApiException invalid() {
        return ApiException.validation(List.of(new ApiException.FieldError("cursor",
                "is not a cursor this export gave out for this query; start again without it")));
    }
}
