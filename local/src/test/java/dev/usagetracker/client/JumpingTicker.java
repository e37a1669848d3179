package dev.usagetracker.client;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SDK's monotonic time for tests outside its package that move a simulated clock: real time plus
 * the jumps the test made, so a batch's age (its Idempotency-Key's life) and every wait the sender
 * planned follow a jump of the clock. Uses the sender's test seam ({@link Ticker}); not public API.
 */
public final class JumpingTicker implements Ticker {
    private final Ticker.Real real = new Ticker.Real();
    private final AtomicLong offsetNanos = new AtomicLong();

    /** A builder whose tracker runs on this ticker. */
    public UsageTracker.Builder install(UsageTracker.Builder builder) {
        return builder.ticker(this);
    }

    /** Time jumps forward: deadlines that fall inside the jump have passed, and a waiting sender wakes. */
    public void jump(Duration d) {
        offsetNanos.addAndGet(d.toNanos());
        wake();
    }

    @Override
    public long nanoTime() {
        return real.nanoTime() + offsetNanos.get();
    }

    @Override
    public void parkUntil(long deadlineNanos) throws InterruptedException {
        real.parkUntil(deadlineNanos - offsetNanos.get());
    }

    @Override
    public void wake() {
        real.wake();
    }
}
