package dev.usagetracker.crypto;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * ES256 signatures in their one canonical form. An ECDSA signature {@code (r, s)} has a twin
 * {@code (r, n − s)} that verifies just as well, so a token would have two accepted strings; we mint
 * only the low-S form ({@code s ≤ n/2}, as Bitcoin's BIP 62 does) and accept nothing else. KMS Sign does
 * not normalise {@code s}: half of its signatures are high-S until {@link #lowS} turns them.
 */
public final class EcdsaP256 {
    /** The order n of the P-256 group (FIPS 186-4 D.1.2.3). */
    public static final BigInteger ORDER =
            new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
    private static final BigInteger HALF_ORDER = ORDER.shiftRight(1);
    /** R || S, 32 bytes each (RFC 7518 §3.4). */
    public static final int SIGNATURE_BYTES = 64;

    private EcdsaP256() {}

    /** The low-S form of a concatenated R || S signature (a copy; the input is unchanged). */
    public static byte[] lowS(byte[] concat) {
        requireLength(concat);
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(concat, 32, 64));
        byte[] out = concat.clone();
        if (s.compareTo(HALF_ORDER) > 0) {
            System.arraycopy(fixed32(ORDER.subtract(s)), 0, out, 32, 32);
        }
        return out;
    }

    /** Whether R || S is well formed and low-S: 0 &lt; r &lt; n and 0 &lt; s ≤ n/2. */
    public static boolean isCanonical(byte[] concat) {
        if (concat == null || concat.length != SIGNATURE_BYTES) return false;
        BigInteger r = new BigInteger(1, Arrays.copyOfRange(concat, 0, 32));
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(concat, 32, 64));
        return r.signum() > 0 && r.compareTo(ORDER) < 0 && s.signum() > 0 && s.compareTo(HALF_ORDER) <= 0;
    }

    /** The twin (r, n − s) of a signature: what an attacker makes from a valid one. */
    public static byte[] twin(byte[] concat) {
        requireLength(concat);
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(concat, 32, 64));
        byte[] out = concat.clone();
        System.arraycopy(fixed32(ORDER.subtract(s)), 0, out, 32, 32);
        return out;
    }

    private static void requireLength(byte[] concat) {
        if (concat.length != SIGNATURE_BYTES) throw new IllegalArgumentException("an ES256 signature has 64 bytes");
    }

    private static byte[] fixed32(BigInteger v) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[32];
        int copy = Math.min(raw.length, 32);
        System.arraycopy(raw, raw.length - copy, out, 32 - copy, copy);
        return out;
    }
}
