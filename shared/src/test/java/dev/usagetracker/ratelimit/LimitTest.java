package dev.usagetracker.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LimitTest {

    @Test
    void parsesWindowsInOrderWithPolicyNames() {
        List<Limit> limits = Limit.parse("ingest", " 1000/1h , 500/1m ");
        assertThat(limits).containsExactly(
                new Limit("ingest-1m", 500, Duration.ofMinutes(1)),
                new Limit("ingest-1h", 1000, Duration.ofHours(1)));
        assertThat(Limit.parse("read", "off")).isEmpty();
        assertThat(Limit.parse("read", "7/2d").getFirst().windowSeconds()).isEqualTo(172_800);
    }

    @Test
    void slotsAreOneSecondOfAMinuteAndOneMinuteOfAnHour() {
        assertThat(new Limit("m", 1, Duration.ofMinutes(1)).slotMillis()).isEqualTo(1_000);
        assertThat(new Limit("h", 1, Duration.ofHours(1)).slotMillis()).isEqualTo(60_000);
        // windows that 60 does not divide fall back to 50 slots
        Limit odd = new Limit("s", 1, Duration.ofSeconds(7));
        assertThat(odd.slots()).isEqualTo(50);
        assertThat(odd.slotMillis() * odd.slots()).isEqualTo(7_000);
    }

    @Test
    void aContainersShareRoundsUpAndNeverReachesZero() {
        Limit l = new Limit("x", 1000, Duration.ofHours(1));
        assertThat(l.share(3).quota()).isEqualTo(334);
        assertThat(new Limit("x", 2, Duration.ofHours(1)).share(10).quota()).isEqualTo(1);
    }

    @Test
    void rejectsWhatCannotBeEnforced() {
        assertThatThrownBy(() -> Limit.parse("ingest", "1000 per hour")).hasMessageContaining("<count>/<n>");
        assertThatThrownBy(() -> Limit.parse("ingest", "0/1m")).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> Limit.parse("ingest", "5/8d")).hasMessageContaining("7 d");
        assertThatThrownBy(() -> Limit.parse("ingest", "5/60s,6/1m")).hasMessageContaining("twice");
    }

    @Test
    void settingsComeFromTheEnvironmentWithPlans() {
        RateLimitSettings s = RateLimitSettings.from(Map.of(
                "RATE_LIMIT_INGEST", "50/1m",
                "RATE_LIMIT_PLANS", "{\"pro\":{\"ingest\":\"5000/1m\",\"read\":\"off\"}}",
                "RATE_LIMIT_MODE", "fail-closed",
                "RATE_LIMIT_EXPECTED_CONTAINERS", "4"));
        assertThat(s.limits(RouteClass.INGEST, "default")).extracting(Limit::quota).containsExactly(50L);
        assertThat(s.limits(RouteClass.INGEST, "pro")).extracting(Limit::quota).containsExactly(5000L);
        assertThat(s.limits(RouteClass.READ, "pro")).isEmpty();
        assertThat(s.limits(RouteClass.READ, "no-such-plan")).extracting(Limit::name).containsExactly("read-1m", "read-1h");
        assertThat(s.limits(RouteClass.REGISTER, "default")).extracting(Limit::quota).containsExactly(10L, 100L);
        assertThat(s.mode()).isEqualTo(FailureMode.FAIL_CLOSED);
        assertThat(s.expectedContainers()).isEqualTo(4);
        assertThat(s.longestWindow()).isEqualTo(Duration.ofHours(1));

        RateLimitSettings defaults = RateLimitSettings.from(Map.of());
        assertThat(defaults.limits(RouteClass.INGEST, "default")).extracting(Limit::quota).containsExactly(500L, 1000L);
        assertThat(defaults.mode()).isEqualTo(FailureMode.LOCAL);
    }

    @Test
    void aBadSettingFailsTheColdStartInsteadOfRunningUnlimited() {
        assertThatThrownBy(() -> RateLimitSettings.from(Map.of("RATE_LIMIT_MODE", "maybe"))).hasMessageContaining("RATE_LIMIT_MODE");
        assertThatThrownBy(() -> RateLimitSettings.from(Map.of("RATE_LIMIT_PLANS", "{\"pro\":{\"register\":\"1/1m\"}}")))
                .hasMessageContaining("ingest and read");
        assertThatThrownBy(() -> RateLimitSettings.from(Map.of("RATE_LIMIT_PLANS", "[1]"))).hasMessageContaining("JSON");
        assertThatThrownBy(() -> RateLimitSettings.from(Map.of("RATE_LIMIT_PLANS", "{\"Pro!\":{}}"))).hasMessageContaining("plan names");
    }
}
