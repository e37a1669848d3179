package dev.usagetracker.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every limiter must do at the edges of its windows, on a clock the test moves. Run against the
 * in-memory limiter here and against the Redis script (real redis-server) in the local module, so the
 * fallback and the real thing cannot drift apart.
 */
public abstract class SlidingWindowContract {
    static final Instant START = Instant.parse("2026-11-25T10:00:00Z");
    static final List<Limit> THREE_PER_MINUTE = List.of(new Limit("t-1m", 3, Duration.ofMinutes(1)));
    static final List<Limit> MINUTE_AND_HOUR = List.of(new Limit("t-1m", 3, Duration.ofMinutes(1)),
            new Limit("t-1h", 5, Duration.ofHours(1)));

    protected TestClock clock;
    private RateLimiter limiter;
    private String subject;

    /** A limiter whose time is this clock; state must not leak between subjects. */
    protected abstract RateLimiter limiter(TestClock clock);

    @BeforeEach
    void freshSubject() {
        clock = new TestClock(START);
        limiter = limiter(clock);
        subject = "contract:" + UUID.randomUUID();
    }

    private Decision acquire(List<Limit> limits, int cost) {
        return limiter.acquire(subject, limits, cost);
    }

    private void at(String offset) {
        clock.set(START.plus(Duration.parse("PT" + offset)));
    }

    @Test
    void firstRequestLeavesQuotaMinusOneForAFullWindow() {
        Decision d = acquire(MINUTE_AND_HOUR, 1);
        assertThat(d.allowed()).isTrue();
        assertThat(d.windows()).extracting(Decision.WindowState::remaining).containsExactly(2L, 4L);
        assertThat(d.windows()).extracting(Decision.WindowState::resetMillis).containsExactly(60_000L, 3_600_000L);
        assertThat(d.windows()).noneMatch(Decision.WindowState::exceeded);
    }

    @Test
    void lastAllowedRequestLeavesZeroAndTheNextIsRefusedUntilTheOldestSlotLeaves() {
        at("0S");
        acquire(THREE_PER_MINUTE, 1);
        at("10.5S");
        acquire(THREE_PER_MINUTE, 1);
        at("20S");
        Decision last = acquire(THREE_PER_MINUTE, 1);
        assertThat(last.allowed()).isTrue();
        assertThat(last.windows().getFirst().remaining()).isZero();
        assertThat(last.windows().getFirst().resetMillis()).isEqualTo(40_000L);

        at("30S");
        Decision refused = acquire(THREE_PER_MINUTE, 1);
        assertThat(refused.outcome()).isEqualTo(Decision.Outcome.LIMITED);
        assertThat(refused.exceededPolicies()).containsExactly("t-1m");
        assertThat(refused.windows().getFirst().remaining()).isZero();
        assertThat(refused.retryAfterMillis()).isEqualTo(30_000L);
    }

    @Test
    void theWindowSlidesOneSlotAtATimeInsteadOfResettingAtAnEdge() {
        at("0S");
        acquire(THREE_PER_MINUTE, 1);
        at("20S");
        acquire(THREE_PER_MINUTE, 1);
        at("40S");
        acquire(THREE_PER_MINUTE, 1);
        at("59.999S");
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isFalse();
        at("60S");
        Decision rolled = acquire(THREE_PER_MINUTE, 1);
        assertThat(rolled.allowed()).as("the 0 s slot has left the window").isTrue();
        assertThat(rolled.windows().getFirst().remaining()).isZero();
        assertThat(rolled.windows().getFirst().resetMillis()).isEqualTo(20_000L);
        at("79S");
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isFalse();
        at("80S");
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isTrue();
    }

    @Test
    void noBurstAcrossAFixedWindowEdge() {
        // Kong's fixed minute would take 3 at 0:59 and 3 more at 1:01; a sliding minute takes none.
        at("59S");
        for (int i = 0; i < 3; i++) assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isTrue();
        at("61S");
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isFalse();
        at("1M58.999S");
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isFalse();
        at("1M59S");
        assertThat(acquire(THREE_PER_MINUTE, 3).allowed()).isTrue();
    }

    @Test
    void retryAfterIsExactlyWhenEnoughUnitsComeBack() {
        at("0S");
        acquire(THREE_PER_MINUTE, 2);
        at("5S");
        acquire(THREE_PER_MINUTE, 1);
        at("6S");
        Decision refused = acquire(THREE_PER_MINUTE, 3);
        // all three units are needed: the 5 s slot must leave too
        assertThat(refused.retryAfterMillis()).isEqualTo(59_000L);
        clock.advance(Duration.ofMillis(refused.retryAfterMillis() - 1));
        assertThat(acquire(THREE_PER_MINUTE, 3).allowed()).isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(acquire(THREE_PER_MINUTE, 3).allowed()).isTrue();
    }

    @Test
    void aBatchCostsItsSizeAndARefusedBatchCostsNothing() {
        assertThat(acquire(THREE_PER_MINUTE, 2).windows().getFirst().remaining()).isEqualTo(1L);
        Decision tooBig = acquire(THREE_PER_MINUTE, 2);
        assertThat(tooBig.allowed()).isFalse();
        assertThat(tooBig.windows().getFirst().remaining()).isEqualTo(1L);
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isTrue();
    }

    @Test
    void everyWindowIsCheckedAndConsumedTogether() {
        for (int i = 0; i < 3; i++) assertThat(acquire(MINUTE_AND_HOUR, 1).allowed()).isTrue();
        at("2M");
        for (int i = 0; i < 2; i++) assertThat(acquire(MINUTE_AND_HOUR, 1).allowed()).isTrue();
        Decision hourSpent = acquire(MINUTE_AND_HOUR, 1);
        assertThat(hourSpent.allowed()).isFalse();
        assertThat(hourSpent.exceededPolicies()).containsExactly("t-1h");
        // the refusal took nothing from the minute window
        assertThat(hourSpent.windows()).extracting(Decision.WindowState::remaining).containsExactly(1L, 0L);
        assertThat(hourSpent.retryAfterMillis()).isEqualTo(Duration.ofMinutes(58).toMillis());
        at("1H");
        Decision later = acquire(MINUTE_AND_HOUR, 1);
        assertThat(later.allowed()).isTrue();
        assertThat(later.windows()).extracting(Decision.WindowState::remaining).containsExactly(2L, 2L);
    }

    @Test
    void subjectsDoNotShareQuota() {
        for (int i = 0; i < 3; i++) acquire(THREE_PER_MINUTE, 1);
        assertThat(acquire(THREE_PER_MINUTE, 1).allowed()).isFalse();
        assertThat(limiter.acquire(subject + "-other", THREE_PER_MINUTE, 1).allowed()).isTrue();
    }
}
