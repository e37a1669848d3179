package dev.usagetracker.wiring;

import dev.usagetracker.config.Lazy;
import dev.usagetracker.plans.CachedPlanCatalog;
import dev.usagetracker.plans.MonthlyUsage;
import dev.usagetracker.plans.PlanCatalog;
import dev.usagetracker.plans.PlanService;
import dev.usagetracker.plans.PlanStore;
import dev.usagetracker.plans.QuotaGate;
import dev.usagetracker.plans.QuotaService;
import dev.usagetracker.ratelimit.FallbackRateLimiter;
import dev.usagetracker.ratelimit.LocalRateLimiter;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RateLimiter;
import dev.usagetracker.ratelimit.RedisRateLimiter;
import dev.usagetracker.store.DynamoMonthlyUsage;
import dev.usagetracker.store.DynamoPlanStore;
import dev.usagetracker.store.DynamoThresholdClaims;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Plans and what they set: the rate limits of every authenticated route, the monthly quota and its
 * usage counter, and the admin's plan routes. Plans are items of the Clients table (docs/database.md).
 */
public final class PlansModule {
    private final Clients clients;
    private final IdentityModule identity;
    private final Lazy<CachedPlanCatalog> catalog;
    private final Lazy<RateLimitGuard> rateLimits;

    public PlansModule(Clients clients, IdentityModule identity) {
        this.clients = clients;
        this.identity = identity;
        catalog = new Lazy<>(() -> new CachedPlanCatalog(store(), clients.config().plans(), clients.clock()));
        rateLimits = new Lazy<>(new Supplier<>() {
            @Override
            public RateLimitGuard get() {
                var config = clients.config();
                var settings = config.rateLimits();
                Optional<RateLimiter> shared = clients.redis().map(RedisRateLimiter::new);
                return new RateLimitGuard(new FallbackRateLimiter(shared,
                        new LocalRateLimiter(clients.clock(), settings.expectedContainers(), settings.longestWindow()),
                        settings.mode(), config.redis().breakerOpen()), settings, catalog.get(),
                        Optional.of(new QuotaGate(monthlyUsage(), clients.clock())));
            }
        });
    }

    public PlanStore store() {
        return new DynamoPlanStore(clients.dynamo(), clients.config().clientsTable(), clients.clock());
    }

    /** The plans the request path reads, cached per container for PLAN_CACHE_SECONDS. */
    public PlanCatalog catalog() { return catalog.get(); }

    /** Per-client limits by the client's plan, with the monthly quota of plans that refuse over it. */
    public RateLimitGuard rateLimits() { return rateLimits.get(); }

    /** PUT /api/plans/{name} and GET /api/plans. */
    public PlanService service() {
        return new PlanService(store(), catalog.get(), clients.config().plans());
    }

    /** This month's hits per client: the Redis mirror, rebuilt from the daily aggregates when missing. */
    public MonthlyUsage monthlyUsage() {
        return new MonthlyUsage(clients.redis(), monthlyTruth(), clients.clock());
    }

    /** The month's hits as the daily aggregates in DynamoDB count them. */
    DynamoMonthlyUsage monthlyTruth() {
        return new DynamoMonthlyUsage(clients.dynamo(), clients.config().usageTable(), clients.clock());
    }

    /** Which usage thresholds fired, once per client, month and threshold. */
    DynamoThresholdClaims thresholdClaims() {
        return new DynamoThresholdClaims(clients.dynamo(), clients.config().usageTable());
    }

    /** GET /api/usage/quota. */
    public QuotaService quotaService() {
        return new QuotaService(identity.clientStore(), catalog.get(), monthlyUsage(), thresholdClaims());
    }
}
