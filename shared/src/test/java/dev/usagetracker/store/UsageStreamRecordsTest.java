package dev.usagetracker.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import dev.usagetracker.realtime.UsageChange;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UsageStreamRecordsTest {
    @Test
    void onlyDailyAggregatesWhoseCountRoseBecomeChanges() {
        DynamodbEvent event = new DynamodbEvent();
        event.setRecords(List.of(
                record("INSERT", "1", daily("acme#2026-11-25", "acme", 1), null),
                record("MODIFY", "2", daily("acme#2026-11-25", "acme", 5), daily("acme#2026-11-25", "acme", 3)),
                record("MODIFY", "3", hourly("acme#2026-11-25T10", "acme", 5), hourly("acme#2026-11-25T10", "acme", 4)),
                record("MODIFY", "4", daily("acme#2026-11-25", "acme", 5), daily("acme#2026-11-25", "acme", 5)),
                record("REMOVE", "5", null, daily("acme#2026-11-24", "acme", 9)),
                record("INSERT", "6", daily("my#client#2026-11-25", "my#client", 2), null)));
        assertThat(UsageStreamRecords.changes(event)).containsExactly(
                new UsageChange("1", "acme", "2026-11-25", 1),
                new UsageChange("2", "acme", "2026-11-25", 5),
                new UsageChange("6", "my#client", "2026-11-25", 2));
        assertThat(UsageStreamRecords.changes(new DynamodbEvent())).isEmpty();
    }

    @Test
    void aThresholdClaimBecomesOneThresholdChangePerNewlyReachedPercent() {
        Map<String, AttributeValue> first = claim("acme#alert#2026-11", "2026-11", Map.of(50, 51L));
        Map<String, AttributeValue> second = claim("acme#alert#2026-11", "2026-11", Map.of(50, 51L, 100, 100L));
        Map<String, AttributeValue> legacy = claim("acme#alert#2026-10", "2026-10", Map.of(80, 80L));
        legacy.remove("alert_month");
        DynamodbEvent event = new DynamodbEvent();
        event.setRecords(List.of(
                record("INSERT", "7", first, null),
                record("MODIFY", "8", second, first),
                record("MODIFY", "9", second, second), // a TTL rewrite, say: nothing newly reached
                record("INSERT", "10", legacy, null), // no marker: not a claim the fan-out knows
                record("REMOVE", "11", null, second)));
        assertThat(UsageStreamRecords.changes(event)).containsExactly(
                UsageChange.threshold("7", new dev.usagetracker.alerts.ThresholdAlert("acme", "2026-11", 50, 100, 51)),
                UsageChange.threshold("8", new dev.usagetracker.alerts.ThresholdAlert("acme", "2026-11", 100, 100, 100)));
        assertThat(UsageChange.threshold("8", new dev.usagetracker.alerts.ThresholdAlert("acme", "2026-11", 100, 100, 100)).frame())
                .isEqualTo("{\"event\":\"threshold\",\"id\":\"8\",\"data\":{\"client_id\":\"acme\",\"period\":\"2026-11\","
                        + "\"threshold\":100,\"monthly_quota\":100,\"used\":100}}");
    }

    private static Map<String, AttributeValue> claim(String pk, String month, Map<Integer, Long> reached) {
        Map<String, AttributeValue> m = new HashMap<>();
        m.put("pk", new AttributeValue().withS(pk));
        m.put("client_id", new AttributeValue().withS("acme"));
        m.put("alert_month", new AttributeValue().withS(month));
        m.put("expires_at", new AttributeValue().withN("1800000000"));
        reached.forEach((percent, used) -> {
            m.put("reached_at_" + percent, new AttributeValue().withS("2026-11-26T07:00:00Z"));
            m.put("used_at_" + percent, new AttributeValue().withN(Long.toString(used)));
            m.put("quota_at_" + percent, new AttributeValue().withN("100"));
        });
        return m;
    }

    private static DynamodbEvent.DynamodbStreamRecord record(String name, String seq, Map<String, AttributeValue> now,
                                                            Map<String, AttributeValue> before) {
        StreamRecord s = new StreamRecord();
        s.setSequenceNumber(seq);
        s.setNewImage(now);
        s.setOldImage(before);
        DynamodbEvent.DynamodbStreamRecord r = new DynamodbEvent.DynamodbStreamRecord();
        r.setEventName(name);
        r.setDynamodb(s);
        return r;
    }

    private static Map<String, AttributeValue> daily(String pk, String client, long count) {
        return item(pk, client, "day_bucket", count);
    }

    private static Map<String, AttributeValue> hourly(String pk, String client, long count) {
        return item(pk, client, "hour_bucket", count);
    }

    private static Map<String, AttributeValue> item(String pk, String client, String bucket, long count) {
        Map<String, AttributeValue> m = new HashMap<>();
        m.put("pk", new AttributeValue().withS(pk));
        m.put("client_id", new AttributeValue().withS(client));
        m.put(bucket, new AttributeValue().withS("x#1"));
        m.put("count", new AttributeValue().withN(Long.toString(count)));
        return m;
    }
}
