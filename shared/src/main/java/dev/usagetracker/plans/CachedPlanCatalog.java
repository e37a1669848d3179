package dev.usagetracker.plans;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans as the request path reads them: a stored plan, else the one the environment defines, kept per
 * container for {@code PLAN_CACHE_SECONDS} (≤ 60 s), so an admin's change reaches every warm container
 * within that time at the cost of one GetItem per plan and container per TTL. If the store cannot be
 * read, the environment's plan (or the last one seen) answers: limits never switch off.
 */
public final class CachedPlanCatalog implements PlanCatalog {
    private static final Logger LOG = LoggerFactory.getLogger(CachedPlanCatalog.class);
    private final PlanSettings settings;
    private final LoadingCache<String, Optional<Plan>> plans;

    public CachedPlanCatalog(PlanStore store, PlanSettings settings) {
        this.settings = settings;
        this.plans = Caffeine.newBuilder().maximumSize(1_000).expireAfterWrite(settings.cacheTtl())
                .build(name -> {
                    try {
                        return store.find(name).or(() -> settings.fromEnvironment(name));
                    } catch (RuntimeException e) {
                        LOG.warn("plan {} could not be read ({}); using the environment's", name, e.getClass().getSimpleName());
                        return settings.fromEnvironment(name);
                    }
                });
    }

    @Override
    public Plan planOf(String planName) {
        String name = planName == null || planName.isBlank() ? Plan.DEFAULT : planName;
        return plans.get(name).orElseGet(() -> plans.get(Plan.DEFAULT).orElse(settings.defaultPlan()));
    }

    @Override
    public boolean exists(String planName) {
        return planName != null && plans.get(planName).isPresent();
    }

    /** Forgets what this container cached (after its own write). */
    public void invalidate(String planName) {
        plans.invalidate(planName);
    }
}
