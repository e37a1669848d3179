package dev.usagetracker.auth;

import dev.usagetracker.crypto.EcdsaP256;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * One token, one string: a compact ES256 JWS is accepted only in the form we mint. Each of the three
 * segments is unpadded base64url (RFC 7515 §2: no {@code =}, no {@code +} or {@code /}) whose unused
 * trailing bits are zero (so it re-encodes to itself), and the signature is 64 bytes in low-S form
 * ({@link EcdsaP256}). Anything else would be a second accepted spelling of a token a cache, a
 * revocation list or a log could key on.
 */
public final class CanonicalJws {
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private CanonicalJws() {}

    /** Whether {@code token} is a canonical compact JWS with a low-S ES256 signature. */
    public static boolean isCanonical(String token) {
        if (token == null) return false;
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) return false;
        byte[][] decoded = new byte[3][];
        for (int i = 0; i < 3; i++) {
            if (!SEGMENT.matcher(parts[i]).matches()) return false;
            try {
                decoded[i] = DECODER.decode(parts[i]);
            } catch (IllegalArgumentException e) {
                return false;
            }
            // Unused bits in the last character must be zero: otherwise two strings decode alike.
            if (!ENCODER.encodeToString(decoded[i]).equals(parts[i])) return false;
        }
        return EcdsaP256.isCanonical(decoded[2]) && !Arrays.equals(decoded[0], new byte[0]);
    }
}
