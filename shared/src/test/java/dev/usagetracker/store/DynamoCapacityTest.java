package dev.usagetracker.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;

class DynamoCapacityTest {
    private static AttributeValue s(String v) { return AttributeValue.fromS(v); }
    private static AttributeValue n(String v) { return AttributeValue.fromN(v); }

    @Test
    void itemSizeIsNamesPlusValuesByDynamoDbsRules() {
        assertThat(DynamoCapacity.itemBytes(Map.of("pk", s("abc")))).isEqualTo(5);
        // 5 significant digits → 3 bytes + 1
        assertThat(DynamoCapacity.itemBytes(Map.of("n", n("12345")))).isEqualTo(1 + 4);
        // leading and trailing zeros do not count
        assertThat(DynamoCapacity.numberBytes("001200")).isEqualTo(DynamoCapacity.numberBytes("12"));
        assertThat(DynamoCapacity.itemBytes(Map.of("l", AttributeValue.fromL(List.of(s("ab"), s("c")))))).isEqualTo(1 + 3 + 3 + 2);
        assertThat(DynamoCapacity.itemBytes(Map.of("é", s("é")))).isEqualTo(4);
    }

    @Test
    void writesCostOneUnitPerStartedKilobyteAndReadsOnePerStartedFourKilobytes() {
        assertThat(DynamoCapacity.writeUnits(1)).isEqualTo(1);
        assertThat(DynamoCapacity.writeUnits(1024)).isEqualTo(1);
        assertThat(DynamoCapacity.writeUnits(1025)).isEqualTo(2);
        assertThat(DynamoCapacity.readUnits(4096, true)).isEqualTo(1);
        assertThat(DynamoCapacity.readUnits(4097, true)).isEqualTo(2);
        assertThat(DynamoCapacity.readUnits(10, false)).isEqualTo(0.5);
        assertThat(DynamoCapacity.readUnits(0, false)).isEqualTo(0.5);
    }

    @Test
    void transactionalWritesCostDoubleAndAnUpdateCostsItsAfterImage() {
        Map<String, AttributeValue> raw = Map.of("pk", s("c#2026-01-01"), "hits", s("x".repeat(1500)));
        TransactWriteItemsRequest tx = TransactWriteItemsRequest.builder().transactItems(
                TransactWriteItem.builder().put(p -> p.tableName("Hits").item(raw)).build(),
                TransactWriteItem.builder().update(u -> u.tableName("Usage").key(Map.of("pk", s("c#2026-01-01")))
                        .updateExpression("ADD #count :n SET client_id = :c, #bucket = :b")
                        .expressionAttributeNames(Map.of("#count", "count", "#bucket", "day_bucket"))
                        .expressionAttributeValues(Map.of(":n", n("3"), ":c", s("c"), ":b", s("2026-01-01#0")))).build()).build();
        DynamoCapacity.Units units = DynamoCapacity.of(tx, null);
        assertThat(units.writeUnits()).isEqualTo(2 * 2 + 2 * 1);
        assertThat(units.itemsWritten()).isEqualTo(2);
        assertThat(units.itemsWrittenByTable()).containsEntry("Hits", 1L).containsEntry("Usage", 1L);

        long after = DynamoCapacity.updatedItemBytes(Map.of("pk", s("k")), "ADD #count :n SET client_id = :c",
                Map.of("#count", "count"), Map.of(":n", n("3"), ":c", s("abc")));
        assertThat(after).isEqualTo(DynamoCapacity.itemBytes(Map.of("pk", s("k"), "count", n("3"), "client_id", s("abc"))));

        DynamoCapacity.Units single = DynamoCapacity.of(PutItemRequest.builder().tableName("Hits").item(raw).build(), null);
        assertThat(single.writeUnits()).isEqualTo(2);
    }

    @Test
    void readsCostWhatTheyReturnAndMissingKeysTheMinimum() {
        Map<String, AttributeValue> item = Map.of("pk", s("a"), "count", n("7"));
        BatchGetItemRequest get = BatchGetItemRequest.builder().requestItems(Map.of("Usage", KeysAndAttributes.builder()
                .consistentRead(true).keys(Map.of("pk", s("a")), Map.of("pk", s("b")), Map.of("pk", s("c"))).build())).build();
        BatchGetItemResponse got = BatchGetItemResponse.builder().responses(Map.of("Usage", List.of(item))).build();
        DynamoCapacity.Units units = DynamoCapacity.of(get, got);
        assertThat(units.readUnits()).isEqualTo(3);
        assertThat(units.itemsRead()).isEqualTo(1);

        QueryResponse page = QueryResponse.builder().items(java.util.Collections.nCopies(200, Map.of("client_id", s("x".repeat(30)))))
                .scannedCount(200).count(200).build();
        DynamoCapacity.Units query = DynamoCapacity.of(QueryRequest.builder().tableName("Usage").build(), page);
        // 200 × (9 + 30) bytes = 7,800 bytes → 2 × 4 KB, eventually consistent → 1 RRU
        assertThat(query.readUnits()).isEqualTo(1);
        assertThat(query.itemsRead()).isEqualTo(200);
    }
}
