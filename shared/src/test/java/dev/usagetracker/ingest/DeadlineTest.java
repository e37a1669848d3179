package dev.usagetracker.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DeadlineTest {
    @Test
    void workStopsStartingWhenOnlyTheReserveIsLeft() {
        AtomicLong remaining = new AtomicLong(30_000);
        Deadline deadline = Deadline.of(remaining::get, Duration.ofSeconds(10));
        assertThat(deadline.allowsStart()).isTrue();
        remaining.set(10_001);
        assertThat(deadline.allowsStart()).isTrue();
        remaining.set(10_000);
        assertThat(deadline.allowsStart()).isFalse();
    }

    @Test
    void aReserveLongerThanTheInvocationStillLeavesItsFirstHalfForWork() {
        AtomicLong remaining = new AtomicLong(30_000);
        Deadline deadline = Deadline.of(remaining::get, Duration.ofSeconds(35)); // call timeout 30 s + 5 s
        assertThat(deadline.allowsStart()).isTrue();
        remaining.set(15_001);
        assertThat(deadline.allowsStart()).isTrue();
        remaining.set(15_000);
        assertThat(deadline.allowsStart()).isFalse();
    }
}
