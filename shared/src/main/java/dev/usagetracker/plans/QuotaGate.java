package dev.usagetracker.plans;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/**
 * Ingest's monthly-quota check for plans with {@code enforcement: refuse}: a batch that would take the
 * month's committed hits over the quota is refused whole with 429 {@code quota-exceeded} and a
 * {@code Retry-After} until the month ends (UTC). Plans with {@code report} (the default) cost nothing
 * here. The check reads committed usage, so what is acknowledged but not yet committed by the consumer
 * can overshoot the quota (docs/rate-limiting.md gives the bound).
 */
public final class QuotaGate {
    private final MonthlyUsage usage;
    private final Clock clock;

    public QuotaGate(MonthlyUsage usage, Clock clock) {
        this.usage = usage;
        this.clock = clock;
    }

    public void check(Principal caller, Plan plan, int hits) {
        check(caller, plan, hits, 0);
    }

    /**
     * {@code serverErrors}: how many of the request's {@code hits} have a 5xx status; a plan whose quota
     * counts {@code non_5xx} neither charges them nor counts the month's 5xx hits as used.
     */
    public void check(Principal caller, Plan plan, int allHits, int serverErrors) {
        if (plan.enforcement() != Enforcement.REFUSE || plan.monthlyQuota() == null) return;
        boolean exclude = plan.quotaCounts().excludesServerErrors();
        int hits = exclude ? allHits - serverErrors : allHits;
        if (hits == 0) return; // nothing this request carries counts toward the quota
        YearMonth month = usage.currentMonth();
        long used = usage.used(caller.clientId(), month, exclude);
        if (used + hits <= plan.monthlyQuota()) return;
        long retry = Math.max(1, Duration.between(clock.instant(),
                month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC)).toSeconds());
        throw new ApiException(429, "quota-exceeded", "Monthly quota exceeded",
                "This request's " + hits + " hit(s) would take the month's usage (" + used + ") over the plan's quota of "
                        + plan.monthlyQuota() + "; the quota renews when the month ends (UTC).",
                List.of(), Map.of("Retry-After", Long.toString(retry)));
    }
}
