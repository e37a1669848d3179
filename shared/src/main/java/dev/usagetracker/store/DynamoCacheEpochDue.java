package dev.usagetracker.store;

import dev.usagetracker.cache.CacheEpoch;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * The note "a cache version bump was skipped" ({@link CacheEpoch}): one Usage-table item,
 * {@code pk = #cache#epoch-due} (a client id cannot start with {@code #}), counting the skips in
 * {@code skipped}. Its writers are the ones that already update the Usage table (the consumer and the
 * ingest's SQS-down fallback), so they need no new permission; the prefetch reads and deletes this one
 * key only. Like the alert claims it has no {@code day_bucket}/{@code hour_bucket}, so no index, stream
 * filter or aggregate reader sees it. It expires (TTL) two cache lifetimes after the last skip: by then
 * every answer cached before that skip has expired from Redis anyway.
 */
public final class DynamoCacheEpochDue implements CacheEpoch.DueMarker {
    public static final String PK = "#cache#epoch-due";
    private static final Duration KEEP = dev.usagetracker.cache.ResponseCache.TTL.multipliedBy(2);
    private static final Map<String, AttributeValue> KEY = Map.of("pk", AttributeValue.fromS(PK));

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoCacheEpochDue(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    @Override
    public void mark(Instant at) {
        dynamo.updateItem(r -> r.tableName(table).key(KEY)
                .updateExpression("ADD skipped :one SET first_skipped_at = if_not_exists(first_skipped_at, :at), "
                        + "last_skipped_at = :at, expires_at = :expires")
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"),
                        ":at", AttributeValue.fromS(at.toString()),
                        ":expires", AttributeValue.fromN(Long.toString(at.plus(KEEP).getEpochSecond())))));
    }

    @Override
    public OptionalLong due() {
        var item = dynamo.getItem(r -> r.tableName(table).key(KEY).consistentRead(true)
                .projectionExpression("skipped")).item();
        if (item == null || !item.containsKey("skipped")) return OptionalLong.empty();
        return OptionalLong.of(Long.parseLong(item.get("skipped").n()));
    }

    @Override
    public boolean clear(long seen) {
        try {
            dynamo.deleteItem(r -> r.tableName(table).key(KEY).conditionExpression("skipped = :seen")
                    .expressionAttributeValues(Map.of(":seen", AttributeValue.fromN(Long.toString(seen)))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }
}
