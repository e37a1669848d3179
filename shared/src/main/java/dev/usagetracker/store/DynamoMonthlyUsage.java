package dev.usagetracker.store;

import dev.usagetracker.alerts.MonthlyUsage;
import java.time.Clock;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * A month's usage as the sum of its daily aggregates ({@code <client_id>#<yyyy-mm-dd>} in the Usage
 * table): one strongly consistent BatchGetItem of the month's days up to today (≤ 31 keys, 1 RCU each),
 * so a count the consumer just committed is included. The items' {@code s5} gives the month's 5xx hits.
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
    public Count count(String clientId, YearMonth month) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        // Hits may be timestamped up to 5 minutes ahead: include tomorrow when the month is still running.
        LocalDate last = month.atEndOfMonth();
        if (YearMonth.from(today).equals(month) && today.plusDays(1).isBefore(last)) last = today.plusDays(1);
        List<String> pks = new ArrayList<>();
        for (LocalDate d = month.atDay(1); !d.isAfter(last); d = d.plusDays(1)) pks.add(UsageKeys.dailyPk(clientId, d.toString()));
        long all = 0;
        long serverErrors = 0;
        for (long[] t : AggregateCounts.tallies(dynamo, table, pks).values()) {
            all += t[0];
            serverErrors += t[4];
        }
        return new Count(all, serverErrors);
    }
}
