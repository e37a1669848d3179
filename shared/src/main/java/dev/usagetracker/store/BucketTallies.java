package dev.usagetracker.store;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

/**
 * Every client of one day or hour, found through the sharded {@code by_day}/{@code by_hour} index and
 * counted from the table. The index is read for its keys only ({@code pk}, {@code client_id}, which every
 * projection holds), so the same code serves a KEYS_ONLY index (template default since issue 28: a count
 * change writes no index entry) and an older stack's INCLUDE [count] one, whatever an emulator returns
 * beyond the projection. Each query page's keys are read with BatchGetItem ({@link AggregateCounts}: ≤ 100 keys
 * a call, unprocessed keys asked again), so memory stays one page; eventually consistent (0.5 RRU per item), as
 * the index itself is, and as the counts these views took from an INCLUDE index were.
 */
final class BucketTallies {
    private BucketTallies() {}

    /** {@code sink(clientId, {count, 2xx, 3xx, 4xx, 5xx})} for every aggregate item of {@code period}. */
    static void forEach(DynamoDbClient dynamo, String table, UsageKeys keys, String index, String bucketAttribute,
                        String period, BiConsumer<String, long[]> sink) {
        for (int shard = 0; shard < keys.shards(); shard++) {
            String bucket = keys.bucket(period, Integer.toString(shard));
            Map<String, AttributeValue> start = null;
            do {
                var page = dynamo.query(QueryRequest.builder().tableName(table).indexName(index)
                        .keyConditionExpression("#b = :b")
                        .projectionExpression("#pk, #client")
                        .expressionAttributeNames(Map.of("#b", bucketAttribute, "#pk", "pk", "#client", "client_id"))
                        .expressionAttributeValues(Map.of(":b", AttributeValue.fromS(bucket)))
                        .exclusiveStartKey(start)
                        .build());
                Map<String, String> clientByPk = new HashMap<>();
                page.items().forEach(i -> clientByPk.put(i.get("pk").s(), i.get("client_id").s()));
                // An item erased between the query and the read is absent: a count of zero, as after the erasure.
                AggregateCounts.tallies(dynamo, table, clientByPk.keySet(), false)
                        .forEach((pk, tally) -> sink.accept(clientByPk.get(pk), tally));
                start = page.lastEvaluatedKey();
            } while (start != null && !start.isEmpty());
        }
    }
}
