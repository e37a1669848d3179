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
 * so the client's plan name and creation time are cached per container for as long as plans are
 * ({@code PLAN_CACHE_SECONDS}, ≤ 60 s): a plan assignment, or the erasure and registration again of the
 * id (a new generation, whose thresholds the detector then checks afresh), reaches alert detection
 * within that time, as it reaches the request path.
 */
public final class PlanAlertPolicy implements AlertPolicy {
    private final ClientStore clients;
    private final PlanCatalog plans;
    private final Cache<String, Optional<Client>> rows;

    public PlanAlertPolicy(ClientStore clients, PlanCatalog plans, Duration planNameTtl) {
        this.clients = clients;
        this.plans = plans;
        this.rows = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(planNameTtl).build();
    }

    @Override
    public Quota quotaOf(String clientId) {
        Optional<Client> row = rows.get(clientId, clients::find);
        if (row.isEmpty()) return Quota.NONE; // erased or unknown: nothing to alert
        Plan plan = plans.planOf(row.get().plan());
        return new Quota(plan.monthlyQuota(), plan.alertThresholds().stream().sorted().distinct().toList(),
                plan.quotaCounts().excludesServerErrors(), Long.toString(row.get().createdAt().toEpochMilli()));
    }
}
