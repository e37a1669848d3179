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
 * ≤ 72 keys for a client; for all clients, the sharded by-hour index's keys, then their items by key); endpoint breakdowns from the raw
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
        allClients(hours).forEach((client, tallies) ->
                tallies.forEach((hour, t) -> counts.computeIfAbsent(client, c -> new HashMap<>()).put(hour, t[0])));
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

    /** The by-hour index lists each hour's clients; their counts and status classes are read by key. */
    @Override
    public Map<String, Map<String, long[]>> hourlyTalliesAllClients(List<String> hours) {
        Map<String, Map<String, long[]>> tallies = allClients(hours);
        tallies.values().forEach(byHour -> byHour.values().removeIf(t -> t[0] <= 0));
        tallies.values().removeIf(Map::isEmpty);
        return tallies;
    }

    private Map<String, Map<String, long[]>> allClients(List<String> hours) {
        Map<String, Map<String, long[]>> tallies = new HashMap<>();
        for (String hour : hours) {
            BucketTallies.forEach(dynamo, usageTable, keys, "by_hour", "hour_bucket", hour,
                    (client, t) -> tallies.computeIfAbsent(client, c -> new HashMap<>()).put(hour, t));
        }
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
