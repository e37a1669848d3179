package dev.usagetracker.store;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScanRequest;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * What a DynamoDB call costs by DynamoDB's published rules, computed from the items it actually writes
 * or reads, because local emulators do not report {@code ConsumedCapacity} faithfully. Item size is the
 * sum of attribute-name and value sizes (strings and binaries by length, numbers ≈ 1 byte per two
 * significant digits + 1, lists and maps 3 bytes + their elements + 1 byte each); a write costs 1 WRU
 * per started KB, doubled inside a transaction; a read 1 RRU per started 4 KB, halved when eventually
 * consistent, and a read that finds nothing still costs the minimum. Secondary-index writes are not
 * included here: they depend on the table's indexes, which the caller knows (see bench/).
 */
public final class DynamoCapacity {
    private static final Pattern SET_CLAUSE = Pattern.compile("(#?[A-Za-z_][A-Za-z0-9_]*)\\s*=\\s*(:[A-Za-z0-9_]+)");
    private static final Pattern ADD_CLAUSE = Pattern.compile("ADD\\s+(#?[A-Za-z_][A-Za-z0-9_]*)\\s+(:[A-Za-z0-9_]+)");

    private DynamoCapacity() {}

    /** Capacity of one call: write units, read units, items written and items read (ScannedCount). */
    public record Units(double writeUnits, double readUnits, long itemsWritten, long itemsRead, Map<String, Long> itemsWrittenByTable) {
        static final Units NONE = new Units(0, 0, 0, 0, Map.of());
    }

    public static long itemBytes(Map<String, AttributeValue> item) {
        long bytes = 0;
        for (Map.Entry<String, AttributeValue> e : item.entrySet()) {
            bytes += utf8(e.getKey()) + valueBytes(e.getValue());
        }
        return bytes;
    }

    static long valueBytes(AttributeValue v) {
        if (v == null) return 0;
        if (v.s() != null) return utf8(v.s());
        if (v.n() != null) return numberBytes(v.n());
        if (v.b() != null) return v.b().asByteArrayUnsafe().length;
        if (v.bool() != null || Boolean.TRUE.equals(v.nul())) return 1;
        if (v.hasSs()) return v.ss().stream().mapToLong(DynamoCapacity::utf8).sum();
        if (v.hasNs()) return v.ns().stream().mapToLong(DynamoCapacity::numberBytes).sum();
        if (v.hasBs()) return v.bs().stream().mapToLong(b -> b.asByteArrayUnsafe().length).sum();
        if (v.hasL()) return 3 + v.l().stream().mapToLong(e -> 1 + valueBytes(e)).sum();
        if (v.hasM()) return 3 + v.m().entrySet().stream().mapToLong(e -> 1 + utf8(e.getKey()) + valueBytes(e.getValue())).sum();
        return 0;
    }

    static long numberBytes(String n) {
        String digits = n.replace("-", "").replace("+", "");
        int e = digits.indexOf('e') >= 0 ? digits.indexOf('e') : digits.indexOf('E');
        if (e >= 0) digits = digits.substring(0, e);
        digits = digits.replace(".", "").replaceFirst("^0+", "").replaceFirst("0+$", "");
        return Math.max(1, (digits.length() + 1) / 2) + 1;
    }

    public static double writeUnits(long itemBytes) {
        return Math.max(1, (itemBytes + 1023) / 1024);
    }

    public static double readUnits(long bytes, boolean consistent) {
        double units = Math.max(1, (bytes + 4095) / 4096);
        return consistent ? units : units / 2;
    }

    /** The capacity a request consumed, from the request (writes) and its response (reads). */
    public static Units of(Object request, Object response) {
        return switch (request) {
            case PutItemRequest r -> write(r.tableName(), itemBytes(r.item()), 1);
            case UpdateItemRequest r -> write(r.tableName(), updatedItemBytes(r.key(), r.updateExpression(),
                    r.expressionAttributeNames(), r.expressionAttributeValues()), 1);
            case TransactWriteItemsRequest r -> transaction(r.transactItems());
            case BatchWriteItemRequest r -> batchWrite(r);
            case GetItemRequest r when response instanceof GetItemResponse g -> {
                long bytes = g.hasItem() ? itemBytes(g.item()) : 0;
                yield new Units(0, readUnits(bytes, Boolean.TRUE.equals(r.consistentRead())), 0, g.hasItem() ? 1 : 0, Map.of());
            }
            case BatchGetItemRequest r when response instanceof BatchGetItemResponse g -> batchGet(r, g);
            case QueryRequest r when response instanceof QueryResponse q ->
                    new Units(0, readUnits(sum(q.items()), Boolean.TRUE.equals(r.consistentRead())), 0, q.scannedCount(), Map.of());
            case ScanRequest r when response instanceof ScanResponse s ->
                    new Units(0, readUnits(sum(s.items()), Boolean.TRUE.equals(r.consistentRead())), 0, s.scannedCount(), Map.of());
            default -> Units.NONE;
        };
    }

    private static Units write(String table, long bytes, int factor) {
        return new Units(factor * writeUnits(bytes), 0, 1, 0, Map.of(table, 1L));
    }

    private static Units transaction(List<TransactWriteItem> items) {
        double units = 0;
        long written = 0;
        Map<String, Long> byTable = new java.util.TreeMap<>();
        for (TransactWriteItem item : items) {
            long bytes;
            String table;
            if (item.put() != null) {
                bytes = itemBytes(item.put().item());
                table = item.put().tableName();
            } else if (item.update() != null) {
                Update u = item.update();
                bytes = updatedItemBytes(u.key(), u.updateExpression(), u.expressionAttributeNames(), u.expressionAttributeValues());
                table = u.tableName();
            } else if (item.delete() != null) {
                bytes = itemBytes(item.delete().key());
                table = item.delete().tableName();
            } else {
                units += 2 * writeUnits(itemBytes(item.conditionCheck().key()));
                continue;
            }
            units += 2 * writeUnits(bytes);
            written++;
            byTable.merge(table, 1L, Long::sum);
        }
        return new Units(units, 0, written, 0, Map.copyOf(byTable));
    }

    private static Units batchWrite(BatchWriteItemRequest r) {
        double units = 0;
        long written = 0;
        Map<String, Long> byTable = new java.util.TreeMap<>();
        for (var e : r.requestItems().entrySet()) {
            for (var w : e.getValue()) {
                units += writeUnits(w.putRequest() != null ? itemBytes(w.putRequest().item()) : itemBytes(w.deleteRequest().key()));
                written++;
                byTable.merge(e.getKey(), 1L, Long::sum);
            }
        }
        return new Units(units, 0, written, 0, Map.copyOf(byTable));
    }

    private static Units batchGet(BatchGetItemRequest r, BatchGetItemResponse g) {
        double units = 0;
        long found = 0;
        for (var e : r.requestItems().entrySet()) {
            boolean consistent = Boolean.TRUE.equals(e.getValue().consistentRead());
            List<Map<String, AttributeValue>> items = g.responses().getOrDefault(e.getKey(), List.of());
            int unprocessed = g.hasUnprocessedKeys() && g.unprocessedKeys().containsKey(e.getKey())
                    ? g.unprocessedKeys().get(e.getKey()).keys().size() : 0;
            for (var item : items) units += readUnits(itemBytes(item), consistent);
            // Keys that were looked up but not found cost the minimum read each.
            int missing = Math.max(0, e.getValue().keys().size() - items.size() - unprocessed);
            units += missing * readUnits(0, consistent);
            found += items.size();
        }
        return new Units(0, units, 0, found, Map.of());
    }

    /**
     * The item after an update that SETs and ADDs attributes (the shape every update here has): its key
     * plus each assigned attribute. A write costs the larger of the before and after images; ours only grow.
     */
    static long updatedItemBytes(Map<String, AttributeValue> key, String expression, Map<String, String> names,
                                 Map<String, AttributeValue> values) {
        Map<String, AttributeValue> after = new java.util.HashMap<>(key);
        if (expression != null) {
            for (Pattern p : new Pattern[] {SET_CLAUSE, ADD_CLAUSE}) {
                Matcher m = p.matcher(expression);
                while (m.find()) {
                    String name = m.group(1).startsWith("#") ? names.getOrDefault(m.group(1), m.group(1)) : m.group(1);
                    AttributeValue value = values.get(m.group(2));
                    if (value != null) after.put(name, value);
                }
            }
        }
        return itemBytes(after);
    }

    private static long sum(List<Map<String, AttributeValue>> items) {
        return items.stream().mapToLong(DynamoCapacity::itemBytes).sum();
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
