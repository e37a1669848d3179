package dev.usagetracker.plans;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 *
 * <p>A request waits at most {@link #PATIENCE} for the re-read of a plan it has a value for: a healthy
 * read takes milliseconds, so a change still applies on time, but a hung store would otherwise cost the
 * request a whole SDK call timeout before its own database work — two timeouts, a Lambda timeout instead
 * of a quick 503 or stale answer (FaultInjectionIT). The read goes on behind the request and updates the
 * cache when it ends.
 */
public final class CachedPlanCatalog implements PlanCatalog {
    private static final Logger LOG = LoggerFactory.getLogger(CachedPlanCatalog.class);
    /** How soon a plan whose read failed is read again (a failed read costs a request its SDK timeout). */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(5);
    /** How long a request waits for the re-read of a plan it has a value for before going on with that value. */
    static final Duration PATIENCE = Duration.ofSeconds(1);

    /** {@code known}: the store answered (the plan, or that there is none); else the environment's stand-in. */
    private record Entry(Optional<Plan> plan, boolean known, Instant readAgainAt) {}

    private final PlanStore store;
    private final PlanSettings settings;
    private final Clock clock;
    private final Executor rereads;
    private final Cache<String, Entry> plans = Caffeine.newBuilder().maximumSize(1_000).build();
    /** The re-read in progress per plan: requests that meet one wait on it, none starts another. */
    private final Map<String, CompletableFuture<Entry>> inFlight = new ConcurrentHashMap<>();

    public CachedPlanCatalog(PlanStore store, PlanSettings settings) {
        this(store, settings, Clock.systemUTC());
    }

    public CachedPlanCatalog(PlanStore store, PlanSettings settings, Clock clock) {
        this(store, settings, clock, task -> Thread.ofVirtual().name("plan-reread").start(task));
    }

    /** {@code rereads}: where a re-read runs, so a request can stop waiting for it. */
    public CachedPlanCatalog(PlanStore store, PlanSettings settings, Clock clock, Executor rereads) {
        this.store = store;
        this.settings = settings;
        this.clock = clock;
        this.rereads = rereads;
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
        Entry cached = plans.getIfPresent(name);
        if (cached != null && clock.instant().isBefore(cached.readAgainAt())) return cached.plan();
        if (cached == null || !cached.known()) return read(name, cached).plan();
        CompletableFuture<Entry> mine = new CompletableFuture<>();
        CompletableFuture<Entry> reread = inFlight.putIfAbsent(name, mine);
        if (reread == null) {
            reread = mine;
            rereads.execute(() -> {
                try {
                    mine.complete(read(name, cached));
                } finally {
                    inFlight.remove(name, mine);
                }
            });
        }
        try {
            return reread.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).plan();
        } catch (TimeoutException e) {
            LOG.warn("plan {} not read again within {}; the one last read answers while the read goes on", name, PATIENCE);
            return cached.plan();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return cached.plan();
        } catch (ExecutionException e) {
            return cached.plan();   // read() never throws; kept for the type's sake
        }
    }

    /** Reads the plan, caches what it found (or what stands in for it) and returns that; never throws. */
    private Entry read(String name, Entry cached) {
        Instant now = clock.instant();
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
        return read;
    }
}
