package dev.usagetracker.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.plans.Plan;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The usage at which a threshold is reached: exact up to the plan bound, never wrapping beyond it. */
class AlertPolicyQuotaTest {
    private static long usageFor(long quota, int percent) {
        return new AlertPolicy.Quota(quota, List.of(percent)).usageFor(percent);
    }

    @Test
    void smallQuotasRoundUpToTheNextWholeHit() {
        assertThat(usageFor(100, 80)).isEqualTo(80);
        assertThat(usageFor(3, 50)).isEqualTo(2);
        assertThat(usageFor(1, 1)).isEqualTo(1);
        assertThat(usageFor(199, 1000)).isEqualTo(1990);
        assertThat(usageFor(101, 99)).isEqualTo(100); // 99.99 → 100
    }

    @Test
    void theLargestAllowedQuotaTimesTheLargestPercentIsExact() {
        assertThat(usageFor(Plan.MAX_MONTHLY_QUOTA, 1000)).isEqualTo(Plan.MAX_MONTHLY_QUOTA * 10);
        assertThat(usageFor(Plan.MAX_MONTHLY_QUOTA - 1, 80))
                .isEqualTo(java.math.BigInteger.valueOf(Plan.MAX_MONTHLY_QUOTA - 1).multiply(java.math.BigInteger.valueOf(80))
                        .add(java.math.BigInteger.valueOf(99)).divide(java.math.BigInteger.valueOf(100)).longValueExact());
    }

    @Test
    void aQuotaStoredBeforeTheBoundNeverWrapsIntoAThresholdReachedAtOnce() {
        // quota × percent overflowed: every threshold fired on the first hit (issue 22, finding 4)
        assertThat(usageFor(Long.MAX_VALUE, 80)).isEqualTo(Long.MAX_VALUE / 100 * 80 + (Long.MAX_VALUE % 100 * 80 + 99) / 100);
        assertThat(usageFor(Long.MAX_VALUE, 1000)).isEqualTo(Long.MAX_VALUE);
        assertThat(usageFor(Long.MAX_VALUE / 2, 1000)).isEqualTo(Long.MAX_VALUE);
    }
}
