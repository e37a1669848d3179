package dev.usagetracker.store;

import dev.usagetracker.usage.UsageStore;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Aggregate reads. One client's days are one BatchGetItem (≤ 31 keys, strongly consistent); the
 * all-clients views list the clients of each day/hour from the sharded GSIs (keys only) and read their
 * counts by key ({@link BucketTallies}), so cost grows with active clients in the window, never with the
 * number of raw hits.
 */
public final class DynamoUsageStore implements UsageStore {
    private final DynamoDbClient dynamo;
    private final String table;
    private final UsageKeys keys;

    public DynamoUsageStore(DynamoDbClient dynamo, String table, UsageKeys keys) {
        this.dynamo = dynamo;
        this.table = table;
        this.keys = keys;
    }

    @Override
    public Map<LocalDate, Long> dailyCounts(String clientId, List<LocalDate> days) {
        Map<String, LocalDate> byPk = new HashMap<>();
        days.forEach(d -> byPk.put(UsageKeys.dailyPk(clientId, d.toString()), d));
        Map<LocalDate, Long> counts = new HashMap<>();
        AggregateCounts.byPk(dynamo, table, byPk.keySet()).forEach((pk, n) -> counts.put(byPk.get(pk), n));
        return counts;
    }

    @Override
    public Map<String, Map<LocalDate, Long>> dailyCountsAllClients(List<LocalDate> days) {
        Map<String, Map<LocalDate, Long>> counts = new HashMap<>();
        for (LocalDate day : days) {
            queryBuckets("by_day", "day_bucket", day.toString(), (clientId, n) ->
                    counts.computeIfAbsent(clientId, c -> new HashMap<>()).merge(day, n, Long::sum));
        }
        return counts;
    }

    @Override
    public Map<String, Long> hourlyTotals(List<String> hours) {
        Map<String, Long> totals = new HashMap<>();
        for (String hour : hours) {
            queryBuckets("by_hour", "hour_bucket", hour, (clientId, n) -> totals.merge(clientId, n, Long::sum));
        }
        return totals;
    }

    private void queryBuckets(String index, String attribute, String period, BiConsumer<String, Long> sink) {
        BucketTallies.forEach(dynamo, table, keys, index, attribute, period, (clientId, tally) -> sink.accept(clientId, tally[0]));
    }
}
