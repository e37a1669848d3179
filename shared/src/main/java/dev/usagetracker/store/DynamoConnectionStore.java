package dev.usagetracker.store;

import dev.usagetracker.auth.Role;
import dev.usagetracker.realtime.ConnectionStore;
import dev.usagetracker.realtime.LiveConnection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/**
 * The connections table: one item per open WebSocket connection, keyed by API Gateway's connection id,
 * with the GSI {@code by_audience_rows} (audience → whole rows, so the fan-out re-checks each connection's
 * principal without another read). {@code expires_at} is the {@code exp} of the token that opened the
 * connection: TTL removes a row whose {@code $disconnect} never came, and the fan-out never pushes past it.
 */
public final class DynamoConnectionStore implements ConnectionStore {
    static final String BY_AUDIENCE = "by_audience_rows";

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoConnectionStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public void put(LiveConnection c) {
        Map<String, AttributeValue> item = new HashMap<>(Map.of(
                "connection_id", s(c.connectionId()),
                "client_id", s(c.clientId()),
                "role", s(c.role().wireName()),
                "audience", s(c.audience()),
                "connected_at", s(c.connectedAt().toString()),
                "expires_at", AttributeValue.fromN(Long.toString(c.expiresAt().getEpochSecond())),
                "scope", s(c.scope())));
        if (c.sourceIp() != null) item.put("source_ip", s(c.sourceIp()));
        if (c.akh() != null) item.put("akh", s(c.akh()));
        item.put("iat", AttributeValue.fromN(Long.toString(c.iat())));
        dynamo.putItem(r -> r.tableName(table).item(item));
    }

    @Override
    public void delete(String connectionId) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of("connection_id", s(connectionId))));
    }

    @Override
    public Optional<LiveConnection> find(String connectionId) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of("connection_id", s(connectionId)))).item();
        if (item == null || item.isEmpty()) return Optional.empty();
        return Optional.of(connection(item));
    }

    /**
     * A row without a source address, scope or key id (written before streams were re-checked) is re-checked
     * as refused.
     */
    private static LiveConnection connection(Map<String, AttributeValue> item) {
        AttributeValue sourceIp = item.get("source_ip");
        AttributeValue scope = item.get("scope");
        AttributeValue akh = item.get("akh");
        AttributeValue iat = item.get("iat");
        return new LiveConnection(item.get("connection_id").s(), item.get("client_id").s(), Role.fromWire(item.get("role").s()),
                item.get("audience").s(), Instant.parse(item.get("connected_at").s()),
                Instant.ofEpochSecond(Long.parseLong(item.get("expires_at").n())),
                sourceIp == null ? null : sourceIp.s(), LiveConnection.scopes(scope == null ? null : scope.s()),
                akh == null ? null : akh.s(), iat == null ? 0 : Long.parseLong(iat.n()));
    }

    @Override
    public List<LiveConnection> audience(String audience) {
        List<LiveConnection> rows = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> from = start;
            QueryResponse page = dynamo.query(r -> r.tableName(table).indexName(BY_AUDIENCE)
                    .keyConditionExpression("audience = :a")
                    .expressionAttributeValues(Map.of(":a", s(audience)))
                    .exclusiveStartKey(from));
            page.items().forEach(i -> rows.add(connection(i)));
            start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
        } while (start != null);
        return rows;
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }
}
