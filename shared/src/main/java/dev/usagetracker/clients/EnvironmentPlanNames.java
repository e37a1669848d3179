package dev.usagetracker.clients;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.ratelimit.RateLimitSettings;
import java.util.function.Predicate;

/**
 * STAND-IN, to be replaced at merge by the plan catalog ({@code dev.usagetracker.plans.PlanCatalog#exists}):
 * the plan names a client may be put on, read from the environment — {@code default} plus the names in
 * {@code RATE_LIMIT_PLANS}. {@link ClientAdministration} takes any {@code Predicate<String>}.
 */
public final class EnvironmentPlanNames implements Predicate<String> {
    private final RateLimitSettings settings;

    public EnvironmentPlanNames(RateLimitSettings settings) {
        this.settings = settings;
    }

    @Override
    public boolean test(String plan) {
        return Principal.DEFAULT_PLAN.equals(plan) || settings.plans().containsKey(plan);
    }
}
