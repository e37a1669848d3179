package dev.usagetracker.store;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.usagetracker.analytics.AnalyticsStore;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;

/**
 * Analytics reads. Hourly series come from the {@code client_id#hour} aggregates (one BatchGetItem of
 * ≤ 72 keys for a client, the sharded by-hour index for all clients); endpoint breakdowns from the raw
 * Hits items of one client's day partitions, which already carry every endpoint — so the consumer's
 * transactions gain nothing.
 */
public final class DynamoAnalyticsStore implements AnalyticsStore {
    private static final TypeReference<List<HitBatch.PackedHit>> PACKED = new TypeReference<>() {};
    private final DynamoDbClient dynamo;
    private final String usageTable;
    private final String hitsTable;
    private final UsageKeys keys;

    public DynamoAnalyticsStore(DynamoDbClient dynamo, String usageTable, String hitsTable, UsageKeys keys) {
        this.dynamo = dynamo;
        this.usageTable = usageTable;
        this.hitsTable = hitsTable;
        this.keys = keys;
    }

    @Override
    public Map<String, Long> hourlyCounts(String clientId, List<String> hours) {
        Map<String, String> byPk = new HashMap<>();
        hours.forEach(h -> byPk.put(UsageKeys.hourlyPk(clientId, h), h));
        Map<String, Long> counts = new HashMap<>();
        AggregateCounts.byPk(dynamo, usageTable, byPk.keySet()).forEach((pk, n) -> counts.put(byPk.get(pk), n));
        return counts;
    }

    @Override
    public Map<String, Map<String, Long>> hourlyCountsAllClients(List<String> hours) {
        Map<String, Map<String, Long>> counts = new HashMap<>();
        for (String hour : hours) {
            for (int shard = 0; shard < keys.shards(); shard++) {
                String bucket = keys.bucket(hour, Integer.toString(shard));
                Map<String, AttributeValue> start = null;
                do {
                    var page = dynamo.query(QueryRequest.builder().tableName(usageTable).indexName("by_hour")
                            .keyConditionExpression("#b = :b")
                            .expressionAttributeNames(Map.of("#b", "hour_bucket"))
                            .expressionAttributeValues(Map.of(":b", AttributeValue.fromS(bucket)))
                            .exclusiveStartKey(start)
                            .build());
                    page.items().forEach(i -> counts.computeIfAbsent(i.get("client_id").s(), c -> new HashMap<>())
                            .merge(hour, Long.parseLong(i.get("count").n()), Long::sum));
                    start = page.lastEvaluatedKey();
                } while (start != null && !start.isEmpty());
            }
        }
        return counts;
    }

    @Override
    public Map<String, long[]> hourlyTallies(String clientId, List<String> hours) {
        Map<String, String> byPk = new HashMap<>();
        hours.forEach(h -> byPk.put(UsageKeys.hourlyPk(clientId, h), h));
        Map<String, long[]> tallies = new HashMap<>();
        AggregateCounts.tallies(dynamo, usageTable, byPk.keySet()).forEach((pk, t) -> tallies.put(byPk.get(pk), t));
        return tallies;
    }

    /**
     * The by-hour index projects only {@code count} (a projection cannot change without rebuilding the
     * index), so the status classes of the (client, hour) items it found are read by key.
     */
    @Override
    public Map<String, Map<String, long[]>> hourlyTalliesAllClients(List<String> hours) {
        Map<String, String[]> byPk = new HashMap<>();
        hourlyCountsAllClients(hours).forEach((client, counts) -> counts.forEach((hour, n) -> {
            if (n > 0) byPk.put(UsageKeys.hourlyPk(client, hour), new String[] {client, hour});
        }));
        Map<String, Map<String, long[]>> tallies = new HashMap<>();
        AggregateCounts.tallies(dynamo, usageTable, byPk.keySet()).forEach((pk, t) -> {
            String[] clientHour = byPk.get(pk);
            tallies.computeIfAbsent(clientHour[0], c -> new HashMap<>()).put(clientHour[1], t);
        });
        return tallies;
    }

    @Override
    public ReadCost rawHits(String clientId, LocalDate receivedOn, String receivedFrom, Consumer<HitBatch.PackedHit> sink) {
        Map<String, String> names = new HashMap<>(Map.of("#pk", "pk", "#hits", "hits"));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":pk", AttributeValue.fromS(clientId + "#" + receivedOn)));
        String condition = "#pk = :pk";
        if (receivedFrom != null) {
            names.put("#sk", "sk");
            values.put(":from", AttributeValue.fromS(receivedFrom));
            condition += " AND #sk >= :from";
        }
        long items = 0;
        long bytes = 0;
        Map<String, AttributeValue> start = null;
        do {
            // Strongly consistent: the result is compared with the (consistent) daily aggregate.
            var page = dynamo.query(QueryRequest.builder().tableName(hitsTable).consistentRead(true)
                    .keyConditionExpression(condition)
                    .expressionAttributeNames(names)
                    .expressionAttributeValues(values)
                    .projectionExpression("#hits")
                    .exclusiveStartKey(start)
                    .build());
            for (Map<String, AttributeValue> item : page.items()) {
                AttributeValue packed = item.get("hits");
                if (packed == null || packed.s() == null) continue;
                items++;
                byte[] json = packed.s().getBytes(StandardCharsets.UTF_8);
                bytes += json.length;
                for (HitBatch.PackedHit hit : packed(json)) sink.accept(hit);
            }
            start = page.lastEvaluatedKey();
        } while (start != null && !start.isEmpty());
        return new ReadCost(items, bytes);
    }

    private static List<HitBatch.PackedHit> packed(byte[] json) {
        try {
            return Json.MAPPER.readValue(json, PACKED);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
