package dev.usagetracker.config;

import java.security.SecureRandom;

/**
 * The one source of randomness for batch ids, API keys, client-id suffixes, IVs and retry jitter. A
 * SnapStart snapshot is restored into many execution environments at once: anything random that was
 * seeded before the snapshot would repeat in every copy (equal batch ids would be dropped as replays).
 * The default {@code SecureRandom} on Linux (NativePRNG) mixes fresh {@code /dev/urandom} bytes into
 * every call, and {@link #reseed()}, run after each restore ({@link Priming}), mixes in fresh OS entropy
 * as well, so no copy can replay another's sequence.
 */
public final class Entropy {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Entropy() {}

    public static SecureRandom random() {
        return RANDOM;
    }

    /** setSeed on a SecureRandom supplements its state, it never replaces it. */
    public static void reseed() {
        RANDOM.setSeed(RANDOM.generateSeed(32));
    }
}
