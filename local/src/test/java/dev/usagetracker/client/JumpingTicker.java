package dev.usagetracker.client;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SDK's monotonic time for tests outside its package that move a simulated clock: real time plus
 * the jumps the test made, so a batch's age (its Idempotency-Key's life) and every wait the sender
 * planned follow a jump of the clock. Uses the sender's test seam ({@link Ticker}); not public API.
 */
public final class JumpingTicker implements Ticker {
    private final AtomicLong offsetNanos = new AtomicLong();
    private boolean signalled;

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
        return System.nanoTime() + offsetNanos.get();
    }

    @Override
    public synchronized void parkUntil(long deadlineNanos) throws InterruptedException {
        while (!signalled) {
            long wait = deadlineNanos - nanoTime();
            if (wait <= 0) break;
            wait(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        signalled = false;
    }

    @Override
    public synchronized void wake() {
        signalled = true;
        notifyAll();
    }
}
