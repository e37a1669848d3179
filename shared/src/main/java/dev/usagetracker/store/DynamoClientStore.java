package dev.usagetracker.store;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.clients.NewClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Clients table. Besides one row per client it holds guard rows {@code email#<hash>} and
 * {@code apikey#<hash>} (a '#' can never appear in a client id), written in the same transaction as
 * the client: the database enforces unique emails, ids and keys, and an API key resolves with two
 * strongly consistent GetItems, so a key works the moment registration returns (a GSI would not).
 */
public final class DynamoClientStore implements ClientStore, dev.usagetracker.clients.ClientDirectory {
    /** The sparse index of client rows (attribute {@code entity} = {@code client}) and plans ({@code plan}). */
    public static final String ENTITY_INDEX = "by_entity";
    static final String EMAIL_GUARD = "email#";
    static final String KEY_GUARD = "apikey#";

    private final DynamoDbClient dynamo;
    private final String table;
    private final java.time.Clock clock;

    public DynamoClientStore(DynamoDbClient dynamo, String table, java.time.Clock clock) {
        this.dynamo = dynamo;
        this.table = table;
        this.clock = clock;
    }

    @Override
    public void create(NewClient c) {
        Map<String, AttributeValue> row = new HashMap<>();
        row.put("client_id", s(c.clientId()));
        row.put("kind", s("client"));
        row.put("entity", s("client"));
        row.put("name", s(c.name()));
        row.put("role", s(c.role().wireName()));
        row.put("created_at", s(c.createdAt().toString()));
        // The hit consumer counts a hit only for the row that existed when it was received (an erased
        // client id registered again must not inherit the old client's hits still in the queue).
        row.put("created_ms", AttributeValue.fromN(Long.toString(c.createdAt().toEpochMilli())));
        row.put("email_hash", s(c.emailHash()));
        row.put("email_enc", AttributeValue.fromB(SdkBytes.fromByteArray(c.emailCiphertext())));
        row.put("api_key_hash", s(c.apiKeyHash()));
        row.put("api_key_enc", AttributeValue.fromB(SdkBytes.fromByteArray(c.apiKeyCiphertext())));
        if (!c.allowedIps().isEmpty()) row.put("allowed_ips", AttributeValue.fromL(c.allowedIps().stream().map(DynamoClientStore::s).toList()));
        try {
            dynamo.transactWriteItems(r -> r.transactItems(
                    putNew(row),
                    putNew(guard(EMAIL_GUARD + c.emailHash(), c.clientId())),
                    putNew(guard(KEY_GUARD + c.apiKeyHash(), c.clientId()))));
        } catch (TransactionCanceledException e) {
            throw new DuplicateClientException(conflictOf(e));
        }
    }

    @Override
    public Optional<Client> findByApiKeyHash(String apiKeyHash) {
        var guard = row(KEY_GUARD + apiKeyHash);
        if (guard == null || !guard.containsKey("owner")) return Optional.empty();
        // The guard is deleted in the same transaction that re-keys a client; the check is belt and braces.
        var client = row(guard.get("owner").s());
        if (client == null || !client.containsKey("name")) return Optional.empty();
        if (apiKeyHash.equals(client.get("api_key_hash").s())) return Optional.of(toClient(client));
        // The key before the last rotation works until its grace period ends.
        boolean previous = client.containsKey("previous_api_key_hash") && apiKeyHash.equals(client.get("previous_api_key_hash").s())
                && client.containsKey("previous_key_expires_at")
                && clock.instant().getEpochSecond() < Long.parseLong(client.get("previous_key_expires_at").n());
        return previous ? Optional.of(toClient(client)) : Optional.empty();
    }

    @Override
    public Optional<Client> find(String clientId) {
        var item = row(clientId);
        return item == null || !item.containsKey("name") ? Optional.empty() : Optional.of(toClient(item));
    }

    private Map<String, AttributeValue> row(String clientId) {
        var item = dynamo.getItem(r -> r.tableName(table).consistentRead(true).key(Map.of("client_id", s(clientId)))).item();
        return item == null || item.isEmpty() ? null : item;
    }

    /**
     * Every client, paging through the {@code by_entity} index (1 RCU per 8 KB of projected rows, ~40
     * rows of ~100 bytes per 4 KB), never a table scan; used by the admin's all-clients /daily.
     */
    @Override
    public List<Client> list() {
        List<Client> clients = new ArrayList<>();
        Optional<String> after = Optional.empty();
        do {
            Page page = page(1000, after);
            for (Row r : page.rows()) {
                clients.add(new Client(r.clientId(), r.name(), Role.fromWire(r.role()), List.of(), Instant.parse(r.createdAt()), r.plan()));
            }
            after = page.next();
        } while (after.isPresent());
        return clients;
    }

    @Override
    public Page page(int limit, Optional<String> afterClientId) {
        var request = software.amazon.awssdk.services.dynamodb.model.QueryRequest.builder().tableName(table)
                .indexName(ENTITY_INDEX)
                .keyConditionExpression("#e = :client")
                .expressionAttributeNames(Map.of("#e", "entity"))
                .expressionAttributeValues(Map.of(":client", s("client")))
                .limit(limit);
        afterClientId.ifPresent(id -> request.exclusiveStartKey(Map.of("entity", s("client"), "client_id", s(id))));
        var response = dynamo.query(request.build());
        List<Row> rows = new ArrayList<>();
        for (var item : response.items()) {
            rows.add(new Row(item.get("client_id").s(), item.get("name").s(), item.get("role").s(),
                    item.containsKey("plan") ? item.get("plan").s() : Principal.DEFAULT_PLAN,
                    item.containsKey("disabled") && Boolean.TRUE.equals(item.get("disabled").bool()),
                    item.get("created_at").s()));
        }
        // The last page may still carry a LastEvaluatedKey when it was exactly full; the caller then reads one empty page.
        Map<String, AttributeValue> last = response.lastEvaluatedKey();
        Optional<String> next = last == null || last.isEmpty() ? Optional.empty() : Optional.of(last.get("client_id").s());
        return new Page(rows, next);
    }

    @Override
    public Map<String, String> names(Collection<String> clientIds) {
        Map<String, String> names = new HashMap<>();
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(clientIds));
        for (int from = 0; from < ids.size(); from += 100) {
            List<Map<String, AttributeValue>> keys = ids.subList(from, Math.min(ids.size(), from + 100)).stream()
                    .map(id -> Map.of("client_id", s(id))).toList();
            Map<String, KeysAndAttributes> request = Map.of(table, KeysAndAttributes.builder().keys(keys)
                    .projectionExpression("client_id, #n").expressionAttributeNames(Map.of("#n", "name")).build());
            while (request != null && !request.isEmpty()) {
                Map<String, KeysAndAttributes> current = request;
                BatchGetItemResponse page = dynamo.batchGetItem(r -> r.requestItems(current));
                page.responses().getOrDefault(table, List.of())
                        .forEach(i -> names.put(i.get("client_id").s(), i.get("name").s()));
                request = page.unprocessedKeys();
            }
        }
        return names;
    }

    @Override
    public void replaceApiKey(String clientId, String newHash, byte[] newCiphertext) {
        String oldHash = keyHashOf(clientId);
        List<TransactWriteItem> items = new ArrayList<>();
        items.add(TransactWriteItem.builder().update(u -> u.tableName(table)
                .key(Map.of("client_id", s(clientId)))
                .conditionExpression("attribute_exists(client_id)")
                .updateExpression("SET api_key_hash = :h, api_key_enc = :e ADD cred_version :one")
                .expressionAttributeValues(Map.of(":h", s(newHash), ":one", AttributeValue.fromN("1"),
                        ":e", AttributeValue.fromB(SdkBytes.fromByteArray(newCiphertext))))).build());
        items.add(putNew(guard(KEY_GUARD + newHash, clientId)));
        if (oldHash != null) {
            items.add(TransactWriteItem.builder().delete(d -> d.tableName(table)
                    .key(Map.of("client_id", s(KEY_GUARD + oldHash)))).build());
        }
        try {
            dynamo.transactWriteItems(r -> r.transactItems(items));
        } catch (TransactionCanceledException e) {
            throw new DuplicateClientException(Conflict.API_KEY);
        }
    }

    /**
     * Puts a client on a rate-limit plan (a name from {@code RATE_LIMIT_PLANS}). An operator action, like
     * attaching an API Gateway usage plan: it takes effect as the per-container client caches expire
     * ({@code AUTH_CACHE_SECONDS}).
     */
    public void assignPlan(String clientId, String plan) {
        dynamo.updateItem(r -> r.tableName(table)
                .key(Map.of("client_id", s(clientId)))
                .conditionExpression("attribute_exists(client_id) AND #k = :client")
                .updateExpression("SET #p = :plan")
                .expressionAttributeNames(Map.of("#k", "kind", "#p", "plan"))
                .expressionAttributeValues(Map.of(":client", s("client"), ":plan", s(plan))));
    }

    @Override
    public void rotateApiKey(String clientId, String currentHash, String newHash, byte[] newCiphertext, Instant previousValidUntil) {
        Map<String, AttributeValue> client = row(clientId);
        if (client == null) throw new IllegalStateException("no client " + clientId);
        boolean grace = previousValidUntil.isAfter(clock.instant());
        String older = client.containsKey("previous_api_key_hash") ? client.get("previous_api_key_hash").s() : null;
        List<TransactWriteItem> items = new ArrayList<>();
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":current", s(currentHash));
        values.put(":new", s(newHash));
        values.put(":enc", AttributeValue.fromB(SdkBytes.fromByteArray(newCiphertext)));
        values.put(":one", AttributeValue.fromN("1"));
        String update = "ADD cred_version :one SET api_key_hash = :new, api_key_enc = :enc";
        if (grace) {
            values.put(":until", AttributeValue.fromN(Long.toString(previousValidUntil.getEpochSecond())));
            update += ", previous_api_key_hash = :current, previous_key_expires_at = :until";
        } else {
            update += " REMOVE previous_api_key_hash, previous_key_expires_at";
        }
        String expression = update;
        // Conditional on the key being rotated still being current: of two concurrent rotations one wins.
        items.add(TransactWriteItem.builder().update(u -> u.tableName(table).key(Map.of("client_id", s(clientId)))
                .conditionExpression("api_key_hash = :current")
                .updateExpression(expression).expressionAttributeValues(values)).build());
        items.add(putNew(guard(KEY_GUARD + newHash, clientId)));
        if (grace) {
            // The old guard lives on until the grace period ends; TTL then removes it.
            items.add(TransactWriteItem.builder().update(u -> u.tableName(table)
                    .key(Map.of("client_id", s(KEY_GUARD + currentHash)))
                    .updateExpression("SET expires_at = :until")
                    .expressionAttributeValues(Map.of(":until", values.get(":until")))).build());
        } else {
            items.add(TransactWriteItem.builder().delete(d -> d.tableName(table)
                    .key(Map.of("client_id", s(KEY_GUARD + currentHash)))).build());
        }
        if (older != null && !older.equals(currentHash) && !older.equals(newHash)) {
            items.add(TransactWriteItem.builder().delete(d -> d.tableName(table)
                    .key(Map.of("client_id", s(KEY_GUARD + older)))).build());
        }
        try {
            dynamo.transactWriteItems(r -> r.transactItems(items));
        } catch (TransactionCanceledException e) {
            throw new DuplicateClientException(Conflict.API_KEY);
        }
    }

    @Override
    public Optional<String> currentApiKeyHash(String clientId) {
        return Optional.ofNullable(keyHashOf(clientId));
    }

    @Override
    public void updateAllowedIps(String clientId, List<String> allowedIps) {
        var request = software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest.builder().tableName(table)
                .key(Map.of("client_id", s(clientId)))
                .conditionExpression("attribute_exists(client_id) AND #k = :client");
        if (allowedIps.isEmpty()) {
            request.updateExpression("REMOVE allowed_ips ADD cred_version :one").expressionAttributeNames(Map.of("#k", "kind"))
                    .expressionAttributeValues(Map.of(":client", s("client"), ":one", AttributeValue.fromN("1")));
        } else {
            request.updateExpression("SET allowed_ips = :ips ADD cred_version :one").expressionAttributeNames(Map.of("#k", "kind"))
                    .expressionAttributeValues(Map.of(":client", s("client"), ":one", AttributeValue.fromN("1"),
                            ":ips", AttributeValue.fromL(allowedIps.stream().map(DynamoClientStore::s).toList())));
        }
        dynamo.updateItem(request.build());
    }

    @Override
    public Optional<Client> administer(String clientId, dev.usagetracker.clients.AdminChange change, Instant now) {
        List<String> set = new ArrayList<>();
        List<String> remove = new ArrayList<>();
        Map<String, String> names = new HashMap<>(Map.of("#k", "kind"));
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":client", s("client"), ":one", AttributeValue.fromN("1")));
        change.plan().ifPresent(plan -> {
            names.put("#p", "plan");
            values.put(":plan", s(plan));
            set.add("#p = :plan");
        });
        change.disabled().ifPresent(disabled -> {
            values.put(":disabled", AttributeValue.fromBool(disabled));
            set.add("disabled = :disabled");
            if (disabled) {
                // tokens issued up to this second stay void for good, even after a re-enable
                values.put(":tva", AttributeValue.fromN(Long.toString(now.getEpochSecond() + 1)));
                set.add("tokens_valid_after = :tva");
            }
        });
        change.allowedIps().ifPresent(ips -> {
            if (ips.isEmpty()) {
                remove.add("allowed_ips");
            } else {
                values.put(":ips", AttributeValue.fromL(ips.stream().map(DynamoClientStore::s).toList()));
                set.add("allowed_ips = :ips");
            }
        });
        String expression = (set.isEmpty() ? "" : "SET " + String.join(", ", set) + " ")
                + (remove.isEmpty() ? "" : "REMOVE " + String.join(", ", remove) + " ")
                + "ADD cred_version :one"; // a plan change too: it reaches every warm container at once
        try {
            var item = dynamo.updateItem(r -> r.tableName(table).key(Map.of("client_id", s(clientId)))
                    .conditionExpression("attribute_exists(client_id) AND #k = :client")
                    .updateExpression(expression.strip()).expressionAttributeNames(names).expressionAttributeValues(values)
                    .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.ALL_NEW)).attributes();
            return Optional.of(toClient(item));
        } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<Client> markErasing(String clientId, Instant now) {
        try {
            var item = dynamo.updateItem(r -> r.tableName(table).key(Map.of("client_id", s(clientId)))
                    .conditionExpression("attribute_exists(client_id) AND #k = :client")
                    // tokens issued up to this second stay void; the version bump reaches every warm container
                    .updateExpression("SET #st = :erasing, tokens_valid_after = :tva ADD cred_version :one")
                    .expressionAttributeNames(Map.of("#k", "kind", "#st", "status"))
                    .expressionAttributeValues(Map.of(":client", s("client"), ":erasing", s("erasing"),
                            ":one", AttributeValue.fromN("1"),
                            ":tva", AttributeValue.fromN(Long.toString(now.getEpochSecond() + 1))))
                    .returnValues(software.amazon.awssdk.services.dynamodb.model.ReturnValue.ALL_NEW)).attributes();
            return Optional.of(toClient(item));
        } catch (software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<byte[]> emailCiphertext(String clientId) {
        var item = row(clientId);
        return item == null || !item.containsKey("email_enc") ? Optional.empty() : Optional.of(item.get("email_enc").b().asByteArray());
    }

    private String keyHashOf(String clientId) {
        var item = row(clientId);
        return item == null || !item.containsKey("api_key_hash") ? null : item.get("api_key_hash").s();
    }

    private TransactWriteItem putNew(Map<String, AttributeValue> item) {
        return TransactWriteItem.builder().put(p -> p.tableName(table).item(item)
                .conditionExpression("attribute_not_exists(client_id)")).build();
    }

    private static Map<String, AttributeValue> guard(String id, String owner) {
        return Map.of("client_id", s(id), "kind", s("guard"), "owner", s(owner));
    }

    /** The cancellation reasons are in item order: client row, email guard, key guard. */
    private static Conflict conflictOf(TransactionCanceledException e) {
        List<CancellationReason> reasons = e.hasCancellationReasons() ? e.cancellationReasons() : List.of();
        Conflict[] order = {Conflict.CLIENT_ID, Conflict.EMAIL, Conflict.API_KEY};
        for (int i = 0; i < Math.min(reasons.size(), order.length); i++) {
            if ("ConditionalCheckFailed".equals(reasons.get(i).code())) return order[i];
        }
        throw e;
    }

    private static Client toClient(Map<String, AttributeValue> item) {
        List<String> ips = item.containsKey("allowed_ips")
                ? item.get("allowed_ips").l().stream().map(AttributeValue::s).toList() : List.of();
        return new Client(item.get("client_id").s(), item.get("name").s(), Role.fromWire(item.get("role").s()),
                ips, Instant.parse(item.get("created_at").s()),
                item.containsKey("plan") ? item.get("plan").s() : Principal.DEFAULT_PLAN, credentials(item));
    }

    /** The revocation state of a row (docs/database.md): absent attributes mean active, enabled, version 0. */
    private static dev.usagetracker.clients.Credentials credentials(Map<String, AttributeValue> item) {
        return new dev.usagetracker.clients.Credentials(
                dev.usagetracker.clients.Credentials.keyId(str(item, "api_key_hash")),
                dev.usagetracker.clients.Credentials.keyId(str(item, "previous_api_key_hash")),
                num(item, "previous_key_expires_at"),
                item.containsKey("disabled") && Boolean.TRUE.equals(item.get("disabled").bool()),
                str(item, "status"), num(item, "tokens_valid_after"), num(item, "cred_version"));
    }

    private static String str(Map<String, AttributeValue> item, String name) {
        return item.containsKey(name) ? item.get(name).s() : null;
    }

    private static long num(Map<String, AttributeValue> item, String name) {
        return item.containsKey(name) && item.get(name).n() != null ? Long.parseLong(item.get(name).n()) : 0;
    }

    static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }
}
