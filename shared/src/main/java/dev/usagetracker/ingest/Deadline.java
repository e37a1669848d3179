package dev.usagetracker.ingest;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The last moment a piece of work may start and still finish within its invocation: Lambda ends a
 * function at its timeout, and what it committed after its last report would never be reported (or
 * mirrored). Read from the invocation's remaining time minus what must stay in reserve.
 */
public final class Deadline {
    /** No limit: tests of the counting alone, and callers outside an invocation. */
    public static final Deadline NONE = new Deadline(() -> Long.MAX_VALUE);

    private final LongSupplier millisLeft;

    private Deadline(LongSupplier millisLeft) {
        this.millisLeft = millisLeft;
    }

    /** {@code remainingMillis} is the invocation's remaining time (Lambda's Context); {@code reserve} is kept back. */
    public static Deadline of(LongSupplier remainingMillis, Duration reserve) {
        // A reserve as long as the invocation (an SDK call timeout set near the function's timeout, as a test
        // on a slow machine does) would defer every part for ever: at least half the invocation stays usable.
        long keep = Math.min(reserve.toMillis(), Math.max(0, remainingMillis.getAsLong()) / 2);
        return new Deadline(() -> remainingMillis.getAsLong() - keep);
    }

    /** From now: {@code remaining} of the invocation is left, {@code reserve} of it kept back. */
    public static Deadline after(Duration remaining, Duration reserve) {
        long end = System.nanoTime() + remaining.toNanos();
        return of(() -> (end - System.nanoTime()) / 1_000_000, reserve);
    }

    /** Whether new work may still start. */
    public boolean allowsStart() {
        return millisLeft.getAsLong() > 0;
    }

    public long millisLeft() {
        return millisLeft.getAsLong();
    }
}
