package dev.usagetracker.store;

import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ScanRequest;

/**
 * Puts client rows written before the {@code by_entity} index existed into it: one paginated Scan of the
 * Clients table for {@code kind = client} rows without {@code entity}, and one conditional UpdateItem
 * per such row. Run once by the operator after upgrading (scripts/backfill-client-index); running it
 * again finds nothing to do. A row erased or changed meanwhile is left alone (the condition fails).
 * Cost: the Scan reads the whole table once (0.5 RCU per 4 KB, eventually consistent) and each row
 * found costs 1 WRU plus 1 WRU for its index entry.
 */
public final class ClientIndexBackfill {
    private final DynamoDbClient dynamo;
    private final String table;

    public ClientIndexBackfill(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    /** What one run did: rows scanned, rows put into the index, rows that changed under it and were left. */
    public record Result(long scanned, long indexed, long skipped) {}

    public Result run() {
        long scanned = 0;
        long indexed = 0;
        long skipped = 0;
        Map<String, String> names = Map.of("#k", "kind", "#e", "entity");
        Map<String, AttributeValue> client = Map.of(":client", AttributeValue.fromS("client"));
        ScanRequest scan = ScanRequest.builder().tableName(table)
                .filterExpression("#k = :client AND attribute_not_exists(#e)")
                .projectionExpression("client_id").expressionAttributeNames(names).expressionAttributeValues(client)
                .build();
        for (var page : dynamo.scanPaginator(scan)) {
            scanned += page.scannedCount();
            for (Map<String, AttributeValue> row : page.items()) {
                try {
                    dynamo.updateItem(u -> u.tableName(table).key(Map.of("client_id", row.get("client_id")))
                            .updateExpression("SET #e = :client")
                            .conditionExpression("attribute_exists(client_id) AND #k = :client AND attribute_not_exists(#e)")
                            .expressionAttributeNames(names).expressionAttributeValues(client));
                    indexed++;
                } catch (ConditionalCheckFailedException changed) {
                    skipped++;
                }
            }
        }
        return new Result(scanned, indexed, skipped);
    }
}
