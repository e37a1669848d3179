package dev.usagetracker.ingest;

import java.security.SecureRandom;

/** Batch ids: 80 random bits (or 80 bits of a hash, for idempotent requests) in Crockford base32; sorting and time come from the item's sort key. */
final class Ids {
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = dev.usagetracker.config.Entropy.random(); // restore-safe (SnapStart)

    private Ids() {}

    static String batchId() {
        byte[] bytes = new byte[10];
        RANDOM.nextBytes(bytes);
        return encode(bytes);
    }

    /**
     * The batch id of a request with an Idempotency-Key: derived from the client and the key, so
     * every attempt of that request travels under the same id whichever container serves it.
     */
    static String batchIdFor(String clientId, String idempotencyKey) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((clientId + "\n" + idempotencyKey).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return encode(java.util.Arrays.copyOf(digest, 10));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String encode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(16);
        long bits = 0;
        int available = 0;
        for (byte b : bytes) {
            bits = (bits << 8) | (b & 0xff);
            available += 8;
            while (available >= 5) {
                sb.append(ALPHABET[(int) (bits >>> (available - 5)) & 31]);
                available -= 5;
            }
        }
        return sb.toString();
    }
}
