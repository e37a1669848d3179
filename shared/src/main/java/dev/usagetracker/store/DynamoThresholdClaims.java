package dev.usagetracker.store;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * One Usage-table item per client and month, {@code pk = <client_id>#alert#<yyyy-mm>}, with one pair of
 * attributes per threshold claimed: {@code reached_at_<percent>} (ISO-8601 UTC) and {@code used_at_<percent>}.
 * A claim is an UpdateItem conditional on {@code attribute_not_exists(reached_at_<percent>)}. The item has
 * no {@code day_bucket}/{@code hour_bucket}, so no index and no aggregate reader sees it; it expires
 * (TTL {@code expires_at}) 400 days after its month ends. Each claim also sets {@code alert_month}
 * ({@code yyyy-mm}) and {@code quota_at_<percent>}: the marker the StreamFanoutFunction's filter passes, and
 * what it needs to push the same threshold message as the local WebSocket ({@code UsageStreamRecords}).
 */
public final class DynamoThresholdClaims implements dev.usagetracker.alerts.ThresholdClaims,
        dev.usagetracker.plans.ThresholdClaims {
    private static final String REACHED_AT = "reached_at_";
    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoThresholdClaims(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    public static String pk(String clientId, YearMonth month) {
        return clientId + "#alert#" + month;
    }

    /** The marker attribute of a claim item: its month, {@code yyyy-mm}. */
    public static final String ALERT_MONTH = "alert_month";
    /** {@code quota_at_<percent>}: the monthly quota the threshold was reached against. */
    public static final String QUOTA_AT = "quota_at_";

    @Override
    public boolean claim(String clientId, YearMonth month, int percent, long used, Instant at) {
        return claim(clientId, month, percent, used, 0, at);
    }

    @Override
    public boolean claim(String clientId, YearMonth month, int percent, long used, long monthlyQuota, Instant at) {
        long expires = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).plusSeconds(400L * 86_400).getEpochSecond();
        try {
            dynamo.updateItem(r -> r.tableName(table)
                    .key(Map.of("pk", AttributeValue.fromS(pk(clientId, month))))
                    .conditionExpression("attribute_not_exists(#r)")
                    .updateExpression("SET #r = :at, #u = :used, #q = :quota, client_id = :c, expires_at = :e, #m = :m")
                    .expressionAttributeNames(Map.of("#r", REACHED_AT + percent, "#u", "used_at_" + percent,
                            "#q", QUOTA_AT + percent, "#m", ALERT_MONTH))
                    .expressionAttributeValues(Map.of(":at", AttributeValue.fromS(at.toString()),
                            ":used", AttributeValue.fromN(Long.toString(used)),
                            ":quota", AttributeValue.fromN(Long.toString(monthlyQuota)),
                            ":m", AttributeValue.fromS(month.toString()),
                            ":c", AttributeValue.fromS(clientId),
                            ":e", AttributeValue.fromN(Long.toString(expires)))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }

    /** Threshold percent → when it was reached this month, ISO-8601 (what GET /api/usage/quota reports). */
    @Override
    public Map<Integer, String> reached(String clientId, YearMonth month) {
        var item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS(pk(clientId, month))))).item();
        Map<Integer, String> reached = new TreeMap<>();
        if (item == null) return reached;
        item.forEach((name, value) -> {
            if (name.startsWith(REACHED_AT) && value.s() != null) {
                reached.put(Integer.parseInt(name.substring(REACHED_AT.length())), value.s());
            }
        });
        return reached;
    }
}
