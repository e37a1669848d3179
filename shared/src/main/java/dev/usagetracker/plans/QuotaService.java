package dev.usagetracker.plans;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.http.ApiException;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** GET /api/usage/quota: a client's plan, its month so far, and the alert thresholds it reached. */
public final class QuotaService {
    private final ClientStore clients;
    private final PlanCatalog plans;
    private final MonthlyUsage usage;
    private final ThresholdClaims claims;

    public QuotaService(ClientStore clients, PlanCatalog plans, MonthlyUsage usage, ThresholdClaims claims) {
        this.clients = clients;
        this.plans = plans;
        this.usage = usage;
        this.claims = claims;
    }

    public Map<String, Object> quota(Principal caller, Optional<String> clientId) {
        if (!caller.has(Principal.SCOPE_USAGE_READ)) throw ApiException.forbidden("This credential cannot read usage.");
        String id = clientId.orElse(caller.clientId());
        if (!id.equals(caller.clientId()) && !caller.isAdmin()) {
            throw ApiException.forbidden("A client can read only its own quota.");
        }
        Client client = clients.find(id).orElseThrow(() -> ApiException.notFound("No client with that client_id."));
        Plan plan = plans.planOf(client.plan());
        YearMonth month = usage.currentMonth();
        long used = usage.used(id, month, plan.quotaCounts().excludesServerErrors());
        Map<Integer, String> reached = plan.alertThresholds().isEmpty() ? Map.of() : claims.reached(id, month);
        List<Map<String, Object>> thresholds = new ArrayList<>();
        for (int percent : plan.alertThresholds()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("percent", percent);
            t.put("reached_at", reached.get(percent));
            thresholds.add(t);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client_id", id);
        out.put("plan", plan.name());
        out.put("period", Map.of("start", month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toString(),
                "end", month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toString()));
        out.put("monthly_quota", plan.monthlyQuota());
        out.put("used", used);
        out.put("remaining", plan.monthlyQuota() == null ? null : Math.max(0, plan.monthlyQuota() - used));
        out.put("enforcement", plan.enforcement().wireName());
        out.put("quota_counts", plan.quotaCounts().wireName());
        out.put("thresholds", thresholds);
        return out;
    }
}
