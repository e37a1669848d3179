package dev.usagetracker.store;

import dev.usagetracker.alerts.MonthlyUsage;
import java.time.Clock;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

/**
 * A month's usage as the sum of its daily aggregates ({@code <client_id>#<yyyy-mm-dd>} in the Usage
 * table): one strongly consistent BatchGetItem of the month's days up to today (≤ 31 keys, 1 RCU each),
 * so a count the consumer just committed is included.
 */
public final class DynamoMonthlyUsage implements MonthlyUsage {
    private final DynamoDbClient dynamo;
    private final String table;
    private final Clock clock;

    public DynamoMonthlyUsage(DynamoDbClient dynamo, String table, Clock clock) {
        this.dynamo = dynamo;
        this.table = table;
        this.clock = clock;
    }

    @Override
    public long used(String clientId, YearMonth month) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        // Hits may be timestamped up to 5 minutes ahead: include tomorrow when the month is still running.
        LocalDate last = month.atEndOfMonth();
        if (YearMonth.from(today).equals(month) && today.plusDays(1).isBefore(last)) last = today.plusDays(1);
        List<Map<String, AttributeValue>> keys = new ArrayList<>();
        for (LocalDate d = month.atDay(1); !d.isAfter(last); d = d.plusDays(1)) {
            keys.add(Map.of("pk", AttributeValue.fromS(UsageKeys.dailyPk(clientId, d.toString()))));
        }
        Map<String, KeysAndAttributes> request = Map.of(table, KeysAndAttributes.builder().keys(keys).consistentRead(true)
                .projectionExpression("#c").expressionAttributeNames(Map.of("#c", "count")).build());
        long total = 0;
        while (request != null && !request.isEmpty()) {
            Map<String, KeysAndAttributes> current = request;
            BatchGetItemResponse page = dynamo.batchGetItem(r -> r.requestItems(current));
            for (Map<String, AttributeValue> item : page.responses().getOrDefault(table, List.of())) {
                AttributeValue n = item.get("count");
                if (n != null && n.n() != null) total += Long.parseLong(n.n());
            }
            request = page.unprocessedKeys();
        }
        return total;
    }
}
