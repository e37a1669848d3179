package dev.usagetracker.store;

import dev.usagetracker.ingest.IdempotencyStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;

/**
 * Idempotency keys as small items of the Clients table, {@code idem#<client_id>#<sha256(key)>}: a
 * {@code #} never appears in a client id, so they cannot collide with clients or guard rows, and the
 * ingest function's IAM policy may write only keys that start with {@code idem#}. One conditional
 * {@code PutItem} claims a key (two concurrent requests: exactly one wins, the other reads the winner's
 * entry); TTL removes the item after 24 h, and an expired item that TTL has not yet deleted is
 * claimable again, because the condition compares {@code expires_at} itself.
 */
public final class DynamoIdempotencyStore implements IdempotencyStore {
    public static final Duration TTL = Duration.ofHours(24);
    static final String PREFIX = "idem#";

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoIdempotencyStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public Entry claim(String clientId, String key, Entry proposed, Instant now) {
        Map<String, AttributeValue> item = new LinkedHashMap<>();
        item.put("client_id", AttributeValue.fromS(itemKey(clientId, key)));
        item.put("kind", AttributeValue.fromS("idempotency"));
        item.put("owner", AttributeValue.fromS(clientId));
        item.put("request_hash", AttributeValue.fromS(proposed.requestHash()));
        item.put("batch_id", AttributeValue.fromS(proposed.batchId()));
        item.put("received_at", AttributeValue.fromS(proposed.receivedAt().toString()));
        item.put("expires_at", AttributeValue.fromN(Long.toString(now.plus(TTL).getEpochSecond())));
        try {
            dynamo.putItem(r -> r.tableName(table).item(item)
                    .conditionExpression("attribute_not_exists(client_id) OR expires_at < :now")
                    .expressionAttributeValues(Map.of(":now", AttributeValue.fromN(Long.toString(now.getEpochSecond()))))
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD));
            return proposed;
        } catch (ConditionalCheckFailedException taken) {
            Map<String, AttributeValue> existing = taken.hasItem() ? taken.item() : dynamo.getItem(r -> r.tableName(table)
                    .consistentRead(true).key(Map.of("client_id", item.get("client_id")))).item();
            if (existing == null || existing.isEmpty()) {
                throw new IllegalStateException("idempotency item vanished between the write and the read");
            }
            return entry(existing);
        }
    }

    @Override
    public java.util.Optional<Entry> find(String clientId, String key, Instant now) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table).consistentRead(true)
                .key(Map.of("client_id", AttributeValue.fromS(itemKey(clientId, key))))).item();
        if (item == null || item.isEmpty() || !item.containsKey("expires_at")
                || Long.parseLong(item.get("expires_at").n()) < now.getEpochSecond()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(entry(item));
    }

    @Override
    public void complete(String clientId, String key, Entry entry, int accepted) {
        dynamo.updateItem(r -> r.tableName(table)
                .key(Map.of("client_id", AttributeValue.fromS(itemKey(clientId, key))))
                .updateExpression("SET accepted = :n")
                // only the claim this request used: not one made after it expired
                .conditionExpression("batch_id = :b AND received_at = :t")
                .expressionAttributeValues(Map.of(
                        ":n", AttributeValue.fromN(Integer.toString(accepted)),
                        ":b", AttributeValue.fromS(entry.batchId()),
                        ":t", AttributeValue.fromS(entry.receivedAt().toString()))));
    }

    private static Entry entry(Map<String, AttributeValue> item) {
        AttributeValue accepted = item.get("accepted");
        return new Entry(item.get("request_hash").s(), item.get("batch_id").s(), Instant.parse(item.get("received_at").s()),
                accepted == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(accepted.n())));
    }

    /** Hashed: a key is up to 255 arbitrary visible characters, the item key stays short and uniform. */
    static String itemKey(String clientId, String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return PREFIX + clientId + "#" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
