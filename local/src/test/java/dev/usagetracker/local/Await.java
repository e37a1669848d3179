package dev.usagetracker.local;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition, polling; never a fixed sleep. Fails with the message when the time is up. */
final class Await {
    private Await() {}

    static void until(Duration limit, String what, BooleanSupplier done) {
        long end = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - end > 0) throw new AssertionError("timed out after " + limit + " waiting for " + what);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }
}
