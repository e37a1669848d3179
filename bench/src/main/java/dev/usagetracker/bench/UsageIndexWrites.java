package dev.usagetracker.bench;

import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndexDescription;

/**
 * The by_day/by_hour index writes a phase caused, priced for the projection the Usage table's indexes have.
 * Every aggregate item is in exactly one of them (a daily item has day_bucket, an hourly one hour_bucket).
 * With INCLUDE [count] each write of an aggregate changes a projected attribute, so each is one index write
 * (≤ 1 KB projected: 1 WRU). With KEYS_ONLY only a write that creates the item (or changes its bucket or
 * client, which the ledger never does) writes the index, so the index writes are the aggregate items that
 * exist after the phase and did not before. moto bills no index writes at all: both figures are this model.
 */
final class UsageIndexWrites {
    private UsageIndexWrites() {}

    /** {@code KEYS_ONLY} or {@code INCLUDE}, as the table's by_day index was created. */
    static String projection(DynamoDbClient dynamo, String usageTable) {
        return dynamo.describeTable(b -> b.tableName(usageTable)).table().globalSecondaryIndexes().stream()
                .filter(g -> g.indexName().equals("by_day")).map(GlobalSecondaryIndexDescription::projection)
                .map(p -> p.projectionTypeAsString()).findFirst().orElseThrow();
    }

    /** Aggregate items (those in by_day or by_hour) now in the table: a consistent, paginated COUNT scan. */
    static long indexedItems(DynamoDbClient dynamo, String usageTable) {
        long n = 0;
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> from = start;
            var page = dynamo.scan(b -> b.tableName(usageTable).consistentRead(true).select("COUNT")
                    .filterExpression("attribute_exists(day_bucket) OR attribute_exists(hour_bucket)")
                    .exclusiveStartKey(from));
            n += page.count();
            start = page.lastEvaluatedKey();
        } while (start != null && !start.isEmpty());
        return n;
    }

    /**
     * What one phase wrote to the indexes under each projection: {@code include} = aggregate item writes,
     * {@code keysOnly} = aggregate items created; {@code projection} is the one the tables have.
     */
    record Figures(String projection, double include, double keysOnly) {
        static final Figures NONE = new Figures("KEYS_ONLY", 0, 0);

        double inUse() {
            return projection.equals("INCLUDE") ? include : keysOnly;
        }

        String other() {
            return projection.equals("INCLUDE") ? "KEYS_ONLY" : "INCLUDE";
        }

        double ofOther() {
            return projection.equals("INCLUDE") ? keysOnly : include;
        }
    }
}
