package dev.usagetracker.ingest;

import java.security.SecureRandom;

/** Batch ids: 80 random bits in Crockford base32; sorting and time come from the item's sort key. */
final class Ids {
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = dev.usagetracker.config.Entropy.random(); // restore-safe (SnapStart)

    private Ids() {}

    static String batchId() {
        byte[] bytes = new byte[10];
        RANDOM.nextBytes(bytes);
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
