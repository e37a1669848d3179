package dev.usagetracker.store;

import dev.usagetracker.webhooks.Webhook;
import dev.usagetracker.webhooks.WebhookStore;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;

/**
 * Webhooks live in the Clients table as items keyed {@code <client_id>#webhook} ({@code kind = webhook}):
 * a key that starts with the client id, so erasure finds it, and a '#' no client id can contain. The
 * secret is {@code secret_enc}, encrypted like the API key with the client id as AAD. The item
 * {@code webhooks#all} holds the string set {@code clients} of the admins whose webhook has scope
 * {@code all}; an id whose webhook is gone is dropped from it by the delivery that finds it missing.
 */
public final class DynamoWebhookStore implements WebhookStore {
    public static final String SUFFIX = "#webhook";
    public static final String SCOPE_ALL_ITEM = "webhooks#all";

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoWebhookStore(DynamoDbClient dynamo, String table) {
        this.dynamo = dynamo;
        this.table = table;
    }

    public static String key(String clientId) {
        return clientId + SUFFIX;
    }

    @Override
    public void put(Webhook w) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("client_id", s(key(w.clientId())));
        item.put("kind", s("webhook"));
        item.put("owner", s(w.clientId()));
        item.put("url", s(w.url()));
        item.put("events", AttributeValue.fromL(w.events().stream().map(DynamoWebhookStore::s).toList()));
        item.put("scope", s(w.scope()));
        item.put("created_at", s(w.createdAt().toString()));
        item.put("secret_enc", AttributeValue.fromB(SdkBytes.fromByteArray(w.secretCiphertext())));
        dynamo.putItem(r -> r.tableName(table).item(item));
        if (Webhook.SCOPE_ALL.equals(w.scope())) {
            dynamo.updateItem(r -> r.tableName(table).key(Map.of("client_id", s(SCOPE_ALL_ITEM)))
                    .updateExpression("ADD clients :c SET kind = :k")
                    .expressionAttributeValues(Map.of(":c", AttributeValue.fromSs(List.of(w.clientId())), ":k", s("registry"))));
        } else {
            forgetScopeAll(w.clientId());
        }
    }

    @Override
    public Optional<Webhook> find(String clientId) {
        var item = dynamo.getItem(r -> r.tableName(table).consistentRead(true).key(Map.of("client_id", s(key(clientId))))).item();
        if (item == null || item.isEmpty() || !item.containsKey("url")) return Optional.empty();
        return Optional.of(new Webhook(clientId, item.get("url").s(),
                item.get("events").l().stream().map(AttributeValue::s).toList(), item.get("scope").s(),
                Instant.parse(item.get("created_at").s()), item.get("secret_enc").b().asByteArray(),
                item.containsKey("last_delivery_at") ? Instant.parse(item.get("last_delivery_at").s()) : null,
                item.containsKey("last_delivery_status") ? item.get("last_delivery_status").s() : null,
                item.containsKey("disabled_reason") ? item.get("disabled_reason").s() : null));
    }

    @Override
    public boolean delete(String clientId) {
        var old = dynamo.deleteItem(r -> r.tableName(table).key(Map.of("client_id", s(key(clientId))))
                .returnValues(ReturnValue.ALL_OLD)).attributes();
        forgetScopeAll(clientId);
        return old != null && !old.isEmpty();
    }

    @Override
    public Set<String> scopeAll() {
        var item = dynamo.getItem(r -> r.tableName(table).consistentRead(true).key(Map.of("client_id", s(SCOPE_ALL_ITEM)))).item();
        return item == null || !item.containsKey("clients") ? Set.of() : new HashSet<>(item.get("clients").ss());
    }

    @Override
    public void forgetScopeAll(String clientId) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(Map.of("client_id", s(SCOPE_ALL_ITEM)))
                    .conditionExpression("attribute_exists(client_id)")
                    .updateExpression("DELETE clients :c")
                    .expressionAttributeValues(Map.of(":c", AttributeValue.fromSs(List.of(clientId)))));
        } catch (ConditionalCheckFailedException noRegistryYet) {
            // no admin ever set a scope-all webhook: nothing to forget
        }
    }

    @Override
    public void recordDelivery(String clientId, Instant createdAt, Instant at, String status) {
        conditionalOnSameWebhook(clientId, createdAt, "SET last_delivery_at = :at, last_delivery_status = :st",
                Map.of(":at", s(at.toString()), ":st", s(status)));
    }

    @Override
    public void disable(String clientId, Instant createdAt, String reason) {
        conditionalOnSameWebhook(clientId, createdAt, "SET disabled_reason = :r", Map.of(":r", s(reason)));
    }

    private void conditionalOnSameWebhook(String clientId, Instant createdAt, String update, Map<String, AttributeValue> values) {
        Map<String, AttributeValue> all = new HashMap<>(values);
        all.put(":created", s(createdAt.toString()));
        try {
            dynamo.updateItem(r -> r.tableName(table).key(Map.of("client_id", s(key(clientId))))
                    .conditionExpression("created_at = :created")
                    .updateExpression(update).expressionAttributeValues(all));
        } catch (ConditionalCheckFailedException replacedOrDeleted) {
            // The webhook was replaced or deleted meanwhile: its successor's state is not this attempt's.
        }
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }
}
