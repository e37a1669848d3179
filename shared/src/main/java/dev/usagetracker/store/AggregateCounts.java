package dev.usagetracker.store;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

/**
 * The {@code count} of aggregate items read by key: BatchGetItem calls of at most 100 keys (strongly
 * consistent unless asked otherwise), unprocessed keys asked again, only {@code pk}, {@code count} and the status
 * classes projected (1 RCU per item under 4 KB, 0.5 eventually consistent). Absent items are absent from the answer (a count of zero).
 */
final class AggregateCounts {
    private static final int MAX_KEYS = 100;

    private AggregateCounts() {}

    static Map<String, Long> byPk(DynamoDbClient dynamo, String table, Collection<String> pks) {
        Map<String, Long> counts = new HashMap<>();
        tallies(dynamo, table, pks).forEach((pk, t) -> counts.put(pk, t[0]));
        return counts;
    }

    /** {count, 2xx, 3xx, 4xx, 5xx} of each item ({@link StatusTally}), read in the same BatchGetItem calls. */
    static Map<String, long[]> tallies(DynamoDbClient dynamo, String table, Collection<String> pks) {
        return tallies(dynamo, table, pks, true);
    }

    /**
     * {@code consistent} false: eventually consistent, half the RRU, for the all-clients views whose keys come from
     * an (eventually consistent) index anyway ({@link BucketTallies}).
     */
    static Map<String, long[]> tallies(DynamoDbClient dynamo, String table, Collection<String> pks, boolean consistent) {
        List<String> keys = List.copyOf(pks);
        Map<String, long[]> counts = new HashMap<>();
        for (int from = 0; from < keys.size(); from += MAX_KEYS) {
            Map<String, KeysAndAttributes> request = Map.of(table, KeysAndAttributes.builder()
                    .keys(keys.subList(from, Math.min(keys.size(), from + MAX_KEYS)).stream()
                            .map(pk -> Map.of("pk", AttributeValue.fromS(pk))).toList())
                    .consistentRead(consistent)
                    .projectionExpression("pk, #count, " + String.join(", ", StatusTally.ATTRIBUTES))
                    .expressionAttributeNames(Map.of("#count", "count"))
                    .build());
            while (request != null && !request.isEmpty()) {
                Map<String, KeysAndAttributes> current = request;
                var page = dynamo.batchGetItem(r -> r.requestItems(current));
                for (Map<String, AttributeValue> item : page.responses().getOrDefault(table, List.of())) {
                    AttributeValue n = item.get("count");
                    if (n != null && n.n() != null) counts.put(item.get("pk").s(), StatusTally.of(item));
                }
                request = page.unprocessedKeys();
            }
        }
        return counts;
    }
}
