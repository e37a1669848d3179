package dev.usagetracker.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A controllable clock for the sender: time moves only when the test says so. */
final class FakeTicker implements Ticker {
    private long now = 1_000_000_000L;
    private boolean signalled;
    private boolean parked;
    private int parks;
    private final List<Long> waits = new ArrayList<>();

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    @Override
    public synchronized void parkUntil(long deadlineNanos) throws InterruptedException {
        waits.add(deadlineNanos - now);
        parks++;
        parked = true;
        notifyAll();
        try {
            while (!signalled && now < deadlineNanos) wait();
        } finally {
            signalled = false;
            parked = false;
        }
    }

    @Override
    public synchronized void wake() {
        signalled = true;
        notifyAll();
    }

    synchronized void advance(Duration d) {
        now += d.toNanos();
        notifyAll();
    }

    synchronized int parks() {
        return parks;
    }

    /** The sender's last requested wait. */
    synchronized Duration lastWait() {
        return Duration.ofNanos(waits.getLast());
    }

    /** Waits (in real time, at most 10 s) until the sender has parked more than {@code count} times and is parked. */
    synchronized void awaitParked(int count) throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (!(parked && parks > count)) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) throw new AssertionError("the sender did not go idle");
            wait(left);
        }
    }

    /** Waits until the sender is idle, i.e. parked, with nothing it could do before the clock moves. */
    void awaitIdle() throws InterruptedException {
        int p = parks();
        wake();
        awaitParked(p);
    }
}
