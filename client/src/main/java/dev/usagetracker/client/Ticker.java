package dev.usagetracker.client;

/**
 * Monotonic time and the sender thread's waiting, behind one seam so that unit tests can drive the
 * sender on a controllable clock. Not public API.
 */
interface Ticker {
    /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /** Blocks the calling (sender) thread until {@code deadlineNanos} or until {@link #wake()}, whichever first. */
    void parkUntil(long deadlineNanos) throws InterruptedException;

    /** Ends the current or the next {@link #parkUntil} early. */
    void wake();

    /** The real one: {@link System#nanoTime()} and a monitor. */
    final class Real implements Ticker {
        private boolean signalled;

        @Override
        public long nanoTime() {
            return System.nanoTime();
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
}
