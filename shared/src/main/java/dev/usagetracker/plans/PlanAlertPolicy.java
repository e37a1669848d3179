package dev.usagetracker.plans;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.usagetracker.alerts.AlertPolicy;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import java.time.Duration;
import java.util.Optional;

/**
 * The alert policy of a client: the monthly quota and alert thresholds of the plan its row names, from
 * the plan catalog (itself cached for PLAN_CACHE_SECONDS). The consumer asks once per client and batch,
 * so the client's plan name is cached for a minute per container: a plan assignment reaches alert
 * detection within that time, as it reaches the request path.
 */
public final class PlanAlertPolicy implements AlertPolicy {
    private final ClientStore clients;
    private final PlanCatalog plans;
    private final Cache<String, Optional<String>> planNames;

    public PlanAlertPolicy(ClientStore clients, PlanCatalog plans, Duration planNameTtl) {
        this.clients = clients;
        this.plans = plans;
        this.planNames = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(planNameTtl).build();
    }

    @Override
    public Quota quotaOf(String clientId) {
        Optional<String> planName = planNames.get(clientId, id -> clients.find(id).map(Client::plan));
        if (planName.isEmpty()) return Quota.NONE; // erased or unknown: nothing to alert
        Plan plan = plans.planOf(planName.get());
        return new Quota(plan.monthlyQuota(), plan.alertThresholds().stream().sorted().distinct().toList(),
                plan.quotaCounts().excludesServerErrors());
    }
}
