package dev.usagetracker.store;

import dev.usagetracker.erasure.ErasureStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScanRequest;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * Deletes what DynamoDB holds of a client (docs/database.md, "Erasure"). Raw hits: one Query per
 * {@code client_id#day} partition over the retention window (plus a day either side). Aggregates: the
 * daily keys of the retention window, the hourly keys of their 3-day TTL and every day and hour a raw
 * hit was counted under, deleted by key (a delete of an absent key costs 1 WRU and changes nothing). Owned items of the Clients table (guards,
 * idempotency items, {@code <client_id>#…} items such as a webhook) have no index by owner: one filtered,
 * paginated Scan finds them — erasures are rare, and the table holds small items (≈ 1 RRU per 8 KB scanned
 * with eventually consistent reads). The Connections table (open WebSockets) is scanned the same way.
 */
public final class DynamoErasureStore implements ErasureStore {
    private static final Duration HOURLY_WINDOW = Duration.ofDays(4);

    private final DynamoDbClient dynamo;
    private final String clientsTable;
    private final String hitsTable;
    private final String usageTable;
    private final String connectionsTable;
    private final Duration retention;
    private final Clock clock;

    public DynamoErasureStore(DynamoDbClient dynamo, String clientsTable, String hitsTable, String usageTable,
                              String connectionsTable, Duration retention, Clock clock) {
        this.dynamo = dynamo;
        this.clientsTable = clientsTable;
        this.hitsTable = hitsTable;
        this.usageTable = usageTable;
        this.connectionsTable = connectionsTable;
        this.retention = retention;
        this.clock = clock;
    }

    @Override
    public long deleteUsage(String clientId) {
        Instant now = clock.instant();
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        LocalDate first = today.minusDays(retention.toDays() + 1);
        long deleted = 0;
        // Hours of the last 4 days (the hourly items' TTL is 3 days), plus every hour a raw hit names: a
        // back-dated hit makes an hourly item whose TTL has passed but which TTL has not yet deleted.
        Set<String> hours = new LinkedHashSet<>();
        Instant hour = now.plus(Duration.ofHours(1));
        for (Instant h = now.minus(HOURLY_WINDOW); !h.isAfter(hour); h = h.plus(Duration.ofHours(1))) hours.add(UsageKeys.hour(h));
        Set<String> days = new LinkedHashSet<>();
        for (LocalDate day = first; !day.isAfter(today.plusDays(1)); day = day.plusDays(1)) {
            days.add(day.toString());
            deleted += deleteRawHits(clientId + "#" + day, days, hours);
        }
        List<Map<String, AttributeValue>> aggregates = new ArrayList<>();
        days.forEach(d -> aggregates.add(Map.of("pk", AttributeValue.fromS(UsageKeys.dailyPk(clientId, d)))));
        hours.forEach(h -> aggregates.add(Map.of("pk", AttributeValue.fromS(UsageKeys.hourlyPk(clientId, h)))));
        // The alert claims of every month their TTL (400 days after the month) may still keep.
        java.time.YearMonth month = java.time.YearMonth.from(today);
        for (int back = 0; back <= 14; back++) {
            aggregates.add(Map.of("pk", AttributeValue.fromS(DynamoThresholdClaims.pk(clientId, month.minusMonths(back)))));
        }
        batchDelete(usageTable, aggregates);
        return deleted + aggregates.size();
    }

    /** Deletes one raw-hit partition, noting the days and hours its hits were counted under. */
    private long deleteRawHits(String pk, Set<String> days, Set<String> hours) {
        long deleted = 0;
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> from = start;
            QueryResponse page = dynamo.query(QueryRequest.builder().tableName(hitsTable)
                    .keyConditionExpression("pk = :pk").projectionExpression("pk, sk, #h")
                    .expressionAttributeNames(Map.of("#h", "hits")).expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(pk)))
                    .exclusiveStartKey(from).build());
            for (var item : page.items()) {
                if (item.get("hits") == null || item.get("hits").s() == null) continue;
                for (var hit : readHits(item.get("hits").s())) {
                    Instant t = Instant.ofEpochMilli(hit.path("t").asLong());
                    days.add(UsageKeys.day(t));
                    hours.add(UsageKeys.hour(t));
                }
            }
            batchDelete(hitsTable, page.items().stream().map(i -> Map.of("pk", i.get("pk"), "sk", i.get("sk"))).toList());
            deleted += page.items().size();
            start = page.lastEvaluatedKey();
        } while (start != null && !start.isEmpty());
        return deleted;
    }

    /** The packed hits of a raw item, {@code [{"t":epoch_ms,...}]} (a plain parse: not a request body). */
    private static com.fasterxml.jackson.databind.JsonNode readHits(String json) {
        try {
            return HITS_READER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable raw-hit item", e);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper HITS_READER = new com.fasterxml.jackson.databind.ObjectMapper();

    @Override
    public long deleteOwnedItems(String clientId) {
        long deleted = scanDelete(clientsTable, "client_id", ScanRequest.builder().tableName(clientsTable)
                .filterExpression("#o = :c OR begins_with(client_id, :own) OR begins_with(client_id, :idem)")
                .expressionAttributeNames(Map.of("#o", "owner"))
                .expressionAttributeValues(Map.of(":c", AttributeValue.fromS(clientId),
                        ":own", AttributeValue.fromS(clientId + "#"),
                        ":idem", AttributeValue.fromS(DynamoIdempotencyStore.PREFIX + clientId + "#"))));
        if (connectionsTable != null && !connectionsTable.isBlank()) {
            deleted += scanDelete(connectionsTable, "connection_id", ScanRequest.builder().tableName(connectionsTable)
                    .filterExpression("client_id = :c")
                    .expressionAttributeValues(Map.of(":c", AttributeValue.fromS(clientId))));
        }
        return deleted;
    }

    private long scanDelete(String table, String keyAttribute, ScanRequest.Builder request) {
        long deleted = 0;
        Map<String, AttributeValue> start = null;
        do {
            ScanResponse page = dynamo.scan(request.exclusiveStartKey(start).build());
            List<Map<String, AttributeValue>> keys = page.items().stream()
                    .map(i -> Map.of(keyAttribute, i.get(keyAttribute))).toList();
            batchDelete(table, keys);
            deleted += keys.size();
            start = page.lastEvaluatedKey();
        } while (start != null && !start.isEmpty());
        return deleted;
    }

    @Override
    public boolean deleteErasingRow(String clientId) {
        try {
            dynamo.deleteItem(r -> r.tableName(clientsTable).key(Map.of("client_id", AttributeValue.fromS(clientId)))
                    .conditionExpression("#st = :erasing")
                    .expressionAttributeNames(Map.of("#st", "status"))
                    .expressionAttributeValues(Map.of(":erasing", AttributeValue.fromS("erasing"))));
            return true;
        } catch (ConditionalCheckFailedException absent) {
            return false;
        }
    }

    /** BatchWriteItem in groups of 25, resubmitting unprocessed items with a short backoff. */
    private void batchDelete(String table, List<Map<String, AttributeValue>> keys) {
        for (int from = 0; from < keys.size(); from += 25) {
            List<WriteRequest> writes = keys.subList(from, Math.min(keys.size(), from + 25)).stream()
                    .map(k -> WriteRequest.builder().deleteRequest(d -> d.key(k)).build()).toList();
            Map<String, List<WriteRequest>> pending = Map.of(table, writes);
            for (int attempt = 0; !pending.isEmpty(); attempt++) {
                if (attempt > 0) sleep(Math.min(1_000, 50L << attempt));
                if (attempt > 8) throw new IllegalStateException("DynamoDB kept items unprocessed; the erasure will be retried");
                Map<String, List<WriteRequest>> current = pending;
                pending = dynamo.batchWriteItem(r -> r.requestItems(current)).unprocessedItems();
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
