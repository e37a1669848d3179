package dev.usagetracker.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryScheduleTest {
    @Test
    void theDefaultGrowsFromSecondsToHoursOverSevenAttempts() {
        RetrySchedule s = RetrySchedule.parse(null);
        assertThat(s.attempts()).isEqualTo(7);
        assertThat(s.after(1)).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.after(2)).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.after(6)).isEqualTo(Duration.ofHours(10));
        assertThat(s.after(7)).as("the last attempt is followed by the dead-letter queue").isNull();
    }

    @Test
    void testsShortenItAndNonsenseFailsTheStart() {
        assertThat(RetrySchedule.parse("1s, 250ms").delays()).containsExactly(Duration.ofSeconds(1), Duration.ofMillis(250));
        assertThatThrownBy(() -> RetrySchedule.parse("5 minutes")).isInstanceOf(IllegalArgumentException.class);
    }
}
