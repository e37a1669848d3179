package dev.usagetracker.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class SqsRetrySchedulerTest {
    private final SqsRetryScheduler scheduler = new SqsRetryScheduler(null, "q", Duration.ofSeconds(30), Duration.ofSeconds(900));

    @RepeatedTest(20)
    void delayGrowsThreefoldPerReceiveWithJitterInTheUpperHalf() {
        assertThat(scheduler.delay(1).toSeconds()).isBetween(15L, 30L);
        assertThat(scheduler.delay(2).toSeconds()).isBetween(45L, 90L);
        assertThat(scheduler.delay(3).toSeconds()).isBetween(135L, 270L);
        assertThat(scheduler.delay(4).toSeconds()).isBetween(405L, 810L);
    }

    @Test
    void delayIsCappedAndNeverZero() {
        assertThat(scheduler.delay(50).toSeconds()).isBetween(450L, 900L);
        assertThat(new SqsRetryScheduler(null, "q", Duration.ZERO, Duration.ZERO).delay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(new SqsRetryScheduler(null, "q", Duration.ofDays(1), Duration.ofDays(2)).delay(3))
                .as("SQS's visibility limit").isLessThanOrEqualTo(Duration.ofHours(12));
    }
}
