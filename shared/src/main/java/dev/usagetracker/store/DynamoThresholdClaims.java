package dev.usagetracker.store;

import dev.usagetracker.plans.ThresholdClaims;
import java.time.YearMonth;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** The claim item of {@link ThresholdClaims}: one GetItem (0.5 RCU) per quota read. */
public final class DynamoThresholdClaims implements ThresholdClaims {
    public static final String ATTRIBUTE_PREFIX = "reached_";
    private final DynamoDbClient dynamo;
    private final String usageTable;

    public DynamoThresholdClaims(DynamoDbClient dynamo, String usageTable) {
        this.dynamo = dynamo;
        this.usageTable = usageTable;
    }

    public static String pk(String clientId, YearMonth month) {
        return clientId + "#alert#" + month;
    }

    @Override
    public Map<Integer, String> reached(String clientId, YearMonth month) {
        var item = dynamo.getItem(r -> r.tableName(usageTable).key(Map.of("pk", AttributeValue.fromS(pk(clientId, month))))).item();
        Map<Integer, String> reached = new HashMap<>();
        if (item == null) return reached;
        item.forEach((name, value) -> {
            if (name.startsWith(ATTRIBUTE_PREFIX) && value.s() != null) {
                try {
                    reached.put(Integer.parseInt(name.substring(ATTRIBUTE_PREFIX.length())), value.s());
                } catch (NumberFormatException ignored) {
                    // not a threshold attribute
                }
            }
        });
        return reached;
    }
}
