package dev.usagetracker.plans;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans as the request path reads them: a stored plan, else the one the environment defines, kept per
 * container for {@code PLAN_CACHE_SECONDS} (≤ 60 s), so an admin's change reaches every warm container
 * within that time at the cost of one GetItem per plan and container per TTL.
 *
 * <p>Stale while the store is unhealthy: a plan that cannot be read again keeps the value last read
 * (a client on an unlimited plan is not put back on the default limits by one timed-out read) and is
 * read again after {@link #RETRY_AFTER_FAILURE}. Only a plan never read falls back to the environment's
 * values, and that fallback is kept no longer than the same retry interval, not a whole TTL.
 */
public final class CachedPlanCatalog implements PlanCatalog {
    private static final Logger LOG = LoggerFactory.getLogger(CachedPlanCatalog.class);
    /** How soon a plan whose read failed is read again (a failed read costs a request its SDK timeout). */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(5);

    /** {@code known}: the store answered (the plan, or that there is none); else the environment's stand-in. */
    private record Entry(Optional<Plan> plan, boolean known, Instant readAgainAt) {}

    private final PlanStore store;
    private final PlanSettings settings;
    private final Clock clock;
    private final Cache<String, Entry> plans = Caffeine.newBuilder().maximumSize(1_000).build();

    public CachedPlanCatalog(PlanStore store, PlanSettings settings) {
        this(store, settings, Clock.systemUTC());
    }

    public CachedPlanCatalog(PlanStore store, PlanSettings settings, Clock clock) {
        this.store = store;
        this.settings = settings;
        this.clock = clock;
    }

    @Override
    public Plan planOf(String planName) {
        String name = planName == null || planName.isBlank() ? Plan.DEFAULT : planName;
        return lookup(name).orElseGet(() -> lookup(Plan.DEFAULT).orElse(settings.defaultPlan()));
    }

    @Override
    public boolean exists(String planName) {
        return planName != null && lookup(planName).isPresent();
    }

    /** Forgets what this container cached (after its own write). */
    public void invalidate(String planName) {
        plans.invalidate(planName);
    }

    private Optional<Plan> lookup(String name) {
        Instant now = clock.instant();
        Entry cached = plans.getIfPresent(name);
        if (cached != null && now.isBefore(cached.readAgainAt())) return cached.plan();
        Entry read;
        try {
            read = new Entry(store.find(name).or(() -> settings.fromEnvironment(name)), true, now.plus(settings.cacheTtl()));
        } catch (RuntimeException e) {
            Instant retry = now.plus(RETRY_AFTER_FAILURE.compareTo(settings.cacheTtl()) < 0 ? RETRY_AFTER_FAILURE : settings.cacheTtl());
            if (cached != null && cached.known()) {
                LOG.warn("plan {} could not be read ({}); keeping the one last read", name, e.getClass().getSimpleName());
                read = new Entry(cached.plan(), true, retry);
            } else {
                LOG.warn("plan {} could not be read ({}) and was never read; the environment's values answer until it is",
                        name, e.getClass().getSimpleName());
                read = new Entry(settings.fromEnvironment(name), false, retry);
            }
        }
        plans.put(name, read);
        return read.plan();
    }
}
