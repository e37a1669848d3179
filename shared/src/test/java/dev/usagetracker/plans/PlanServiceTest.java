package dev.usagetracker.plans;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Json;
import dev.usagetracker.ratelimit.RateLimitSettings;
import dev.usagetracker.ratelimit.RouteClass;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Validation and merging of PUT /api/plans, over an in-memory store (pure logic). */
class PlanServiceTest {
    private final Map<String, String> env = Map.of("RATE_LIMIT_INGEST", "5/1m", "PLAN_DEFAULT_MONTHLY_QUOTA", "1000",
            "RATE_LIMIT_PLANS", "{\"legacy\":{\"ingest\":\"7/1m\"}}");
    private final PlanSettings settings = PlanSettings.from(env, RateLimitSettings.from(env));
    private final Map<String, Plan> stored = new HashMap<>();
    private final PlanStore store = new PlanStore() {
        @Override
        public Optional<Plan> find(String name) {
            return Optional.ofNullable(stored.get(name));
        }

        @Override
        public List<Plan> list() {
            return new ArrayList<>(stored.values());
        }

        @Override
        public void put(Plan plan) {
            stored.put(plan.name(), plan);
        }
    };
    private final CachedPlanCatalog catalog = new CachedPlanCatalog(store, settings);
    private final PlanService service = new PlanService(store, catalog, settings);
    private final Principal admin = new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN));

    private Map<String, Object> put(String name, String json) {
        return service.put(admin, name, Json.readTree(json.getBytes(StandardCharsets.UTF_8)));
    }

    private List<String> errors(String name, String json) {
        try {
            put(name, json);
        } catch (ApiException e) {
            assertThat(e.status()).isEqualTo(400);
            return e.errors().stream().map(ApiException.FieldError::field).toList();
        }
        throw new AssertionError("accepted: " + json);
    }

    @Test
    void omittedFieldsKeepTheDefaultPlansAndTheDefaultComesFromTheEnvironment() {
        assertThat(catalog.planOf("default").monthlyQuota()).isEqualTo(1000L);
        assertThat(catalog.planOf("nobody-has-this").name()).isEqualTo("default");
        assertThat(catalog.planOf("legacy").limitsOf(RouteClass.INGEST).getFirst().quota()).as("RATE_LIMIT_PLANS seeds").isEqualTo(7);
        put("default", "{\"enforcement\":\"refuse\"}");
        Map<String, Object> pro = put("pro", "{\"limits\":{\"read\":\"off\"}}");
        assertThat(pro).containsEntry("enforcement", "refuse").containsEntry("monthly_quota", 1000L);
        assertThat(pro.get("limits")).isEqualTo(Map.of("ingest", "5/1m", "ingest_hits", "60000/1m", "read", "off"));
        assertThat(put("free", "{\"monthly_quota\":null,\"alert_thresholds\":[100,50,100]}"))
                .containsEntry("monthly_quota", null).containsEntry("alert_thresholds", List.of(50, 100));
        assertThat(catalog.planOf("pro").limitsOf(RouteClass.READ)).isEmpty();
    }

    @Test
    void quotaCountsDefaultsToAllAndTakesNon5xx() {
        assertThat(put("metered", "{\"monthly_quota\":70}")).containsEntry("quota_counts", "all");
        assertThat(put("ok-only", "{\"quota_counts\":\"non_5xx\"}")).containsEntry("quota_counts", "non_5xx");
        assertThat(catalog.planOf("ok-only").quotaCounts()).isEqualTo(QuotaCounts.NON_5XX);
        assertThat(errors("p", "{\"quota_counts\":\"2xx\"}")).containsExactly("quota_counts");
        assertThat(errors("p", "{\"quota_counts\":5}")).containsExactly("quota_counts");
    }

    @Test
    void badInputNamesEveryWrongField() {
        assertThat(errors("Bad", "{}")).containsExactly("name");
        assertThat(errors("p", "{\"limits\":{\"ingest\":\"0/1m\",\"read\":\"5/7x\",\"ingest_hits\":\"1/1m,2/60s\"}}"))
                .containsExactlyInAnyOrder("limits.ingest", "limits.read", "limits.ingest_hits");
        assertThat(errors("p", "{\"monthly_quota\":0}")).containsExactly("monthly_quota");
        assertThat(errors("p", "{\"monthly_quota\":1.5}")).containsExactly("monthly_quota");
        assertThat(errors("p", "{\"alert_thresholds\":[0,1001,50]}")).containsExactly("alert_thresholds[0]", "alert_thresholds[1]");
        assertThat(errors("p", "{\"enforcement\":\"block\",\"extra\":1}")).containsExactlyInAnyOrder("enforcement", "extra");
        errors("p", "[]"); // a 400 (the JSON reader refuses a non-object body itself)
        assertThat(stored).isEmpty();
        Principal client = new Principal("c", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
        assertThatThrownBy(() -> service.list(client)).isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(403));
    }
}
