package dev.usagetracker.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.TestClock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalRateLimiterTest extends SlidingWindowContract {

    @Override
    protected RateLimiter limiter(TestClock clock) {
        return new LocalRateLimiter(clock, 1, Duration.ofHours(1));
    }

    @Test
    void eachContainerEnforcesItsShareOfTheQuota() {
        LocalRateLimiter oneOfFour = new LocalRateLimiter(clock, 4, Duration.ofHours(1));
        List<Limit> hundred = List.of(new Limit("x-1h", 100, Duration.ofHours(1)));
        int allowed = 0;
        for (int i = 0; i < 100; i++) if (oneOfFour.acquire("s", hundred, 1).allowed()) allowed++;
        assertThat(allowed).isEqualTo(25);
        Decision d = oneOfFour.acquire("s", hundred, 1);
        assertThat(d.source()).isEqualTo(Decision.Source.LOCAL);
        assertThat(d.policies().getFirst().quota()).as("the headers show the share in force").isEqualTo(25);
    }
}
