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
 * Ingest's monthly-quota check for plans with {@code enforcement: refuse}. A hit counts in the calendar
 * month (UTC) of its own timestamp, so a request is checked against every month its hits fall in: a
 * batch that would take any of those months' committed hits over the quota is refused whole with 429
 * {@code quota-exceeded}. Checking only the current month let backdated hits, and an SDK backlog held
 * back until the 1st, land in a month already over its quota. {@code Retry-After} runs to the end of the
 * current month when that month is over; a past month's refusal never lifts, and the answer says so
 * (its Retry-After is still the current month's end, the earliest anything could change). Plans with
 * {@code report} (the default) cost nothing here. The check reads committed usage, so what is
 * acknowledged but not yet committed by the consumer can overshoot the quota (docs/rate-limiting.md).
 */
public final class QuotaGate {
    private final MonthlyUsage usage;
    private final Clock clock;

    public QuotaGate(MonthlyUsage usage, Clock clock) {
        this.usage = usage;
        this.clock = clock;
    }

    /** {@code hits} hits of the current month (requests whose hits' months are not known). */
    public Map<YearMonth, Long> currentMonth(int hits) {
        return Map.of(usage.currentMonth(), (long) hits);
    }

    public void check(Principal caller, Plan plan, int hits) {
        check(caller, plan, currentMonth(hits), Map.of());
    }

    /**
     * {@code hitsByMonth}: the request's hits per calendar month of their timestamps; {@code serverErrorsByMonth}:
     * how many of those have a 5xx status. A plan whose quota counts {@code non_5xx} neither charges them nor
     * counts the month's 5xx hits as used.
     */
    public void check(Principal caller, Plan plan, Map<YearMonth, Long> hitsByMonth, Map<YearMonth, Long> serverErrorsByMonth) {
        if (plan.enforcement() != Enforcement.REFUSE || plan.monthlyQuota() == null) return;
        boolean exclude = plan.quotaCounts().excludesServerErrors();
        YearMonth current = usage.currentMonth();
        for (var month : new java.util.TreeMap<>(hitsByMonth).entrySet()) {
            long hits = month.getValue() - (exclude ? serverErrorsByMonth.getOrDefault(month.getKey(), 0L) : 0L);
            if (hits <= 0) continue; // nothing of this month counts toward the quota
            long used = usage.used(caller.clientId(), month.getKey(), exclude);
            if (used + hits <= plan.monthlyQuota()) continue;
            long retry = Math.max(1, Duration.between(clock.instant(),
                    current.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC)).toSeconds());
            String renews = month.getKey().isBefore(current)
                    ? "that month has ended, so its quota will not renew for these hits."
                    : "the quota renews when the month ends (UTC).";
            throw new ApiException(429, "quota-exceeded", "Monthly quota exceeded",
                    "This request's " + hits + " hit(s) of " + month.getKey() + " would take that month's usage ("
                            + used + ") over the plan's quota of " + plan.monthlyQuota() + "; " + renews,
                    List.of(), Map.of("Retry-After", Long.toString(retry)));
        }
    }
}
