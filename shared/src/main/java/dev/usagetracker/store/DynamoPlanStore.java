package dev.usagetracker.store;

import dev.usagetracker.plans.Enforcement;
import dev.usagetracker.plans.QuotaCounts;
import dev.usagetracker.plans.Plan;
import dev.usagetracker.plans.PlanStore;
import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.RouteClass;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/**
 * Plans as items of the Clients table: {@code client_id = "plan#<name>"} (a '#' never appears in a client
 * id), {@code entity = "plan"} so the {@code by_entity} index lists them. A plan is ~300 bytes: a read is
 * 0.5 RCU (eventually consistent; the per-container cache keeps it ≤ 60 s anyway), a write 1 WRU plus
 * 1 WRU for the index.
 */
public final class DynamoPlanStore implements PlanStore {
    static final String PREFIX = "plan#";
    private final DynamoDbClient dynamo;
    private final String table;
    private final java.time.Clock clock;

    public DynamoPlanStore(DynamoDbClient dynamo, String table, java.time.Clock clock) {
        this.dynamo = dynamo;
        this.table = table;
        this.clock = clock;
    }

    @Override
    public Optional<Plan> find(String name) {
        var item = dynamo.getItem(r -> r.tableName(table).key(Map.of("client_id", AttributeValue.fromS(PREFIX + name)))).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(toPlan(item));
    }

    @Override
    public List<Plan> list() {
        List<Plan> plans = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> from = start;
            QueryResponse page = dynamo.query(r -> r.tableName(table).indexName(DynamoClientStore.ENTITY_INDEX)
                    .keyConditionExpression("#e = :plan")
                    .expressionAttributeNames(Map.of("#e", "entity"))
                    .expressionAttributeValues(Map.of(":plan", AttributeValue.fromS("plan")))
                    .exclusiveStartKey(from));
            page.items().forEach(i -> plans.add(toPlan(i)));
            start = page.lastEvaluatedKey();
        } while (start != null && !start.isEmpty());
        return plans;
    }

    @Override
    public void put(Plan plan) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("client_id", AttributeValue.fromS(PREFIX + plan.name()));
        item.put("kind", AttributeValue.fromS("plan"));
        item.put("entity", AttributeValue.fromS("plan"));
        item.put("plan_name", AttributeValue.fromS(plan.name()));
        for (RouteClass c : Plan.PLAN_CLASSES) {
            item.put("limit_" + c.wireName(), AttributeValue.fromS(Limit.spec(c.wireName(), plan.limitsOf(c))));
        }
        if (plan.monthlyQuota() != null) item.put("monthly_quota", AttributeValue.fromN(Long.toString(plan.monthlyQuota())));
        item.put("enforcement", AttributeValue.fromS(plan.enforcement().wireName()));
        item.put("alert_thresholds", AttributeValue.fromL(plan.alertThresholds().stream()
                .map(t -> AttributeValue.fromN(Integer.toString(t))).toList()));
        item.put("quota_counts", AttributeValue.fromS(plan.quotaCounts().wireName()));
        item.put("updated_at", AttributeValue.fromS(clock.instant().toString()));
        dynamo.putItem(r -> r.tableName(table).item(item));
    }

    private static Plan toPlan(Map<String, AttributeValue> item) {
        Map<RouteClass, List<Limit>> limits = new EnumMap<>(RouteClass.class);
        for (RouteClass c : Plan.PLAN_CLASSES) {
            AttributeValue v = item.get("limit_" + c.wireName());
            if (v != null) limits.put(c, Limit.parse(c.wireName(), v.s()));
        }
        Long quota = item.containsKey("monthly_quota") ? Long.parseLong(item.get("monthly_quota").n()) : null;
        List<Integer> thresholds = item.containsKey("alert_thresholds")
                ? item.get("alert_thresholds").l().stream().map(a -> Integer.parseInt(a.n())).toList() : List.of();
        return new Plan(item.get("plan_name").s(), limits, quota,
                item.containsKey("enforcement") ? Enforcement.parse(item.get("enforcement").s()) : Enforcement.REPORT, thresholds,
                item.containsKey("quota_counts") ? QuotaCounts.parse(item.get("quota_counts").s()) : QuotaCounts.ALL);
    }
}
