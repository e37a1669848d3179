package dev.usagetracker.store;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import dev.usagetracker.alerts.ThresholdAlert;
import dev.usagetracker.realtime.UsageChange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Usage table's DynamoDB stream, read as daily aggregate changes. The event source's filter already
 * passes only inserts and updates of daily items (those with a {@code day_bucket}); this checks again,
 * since a filter is configuration and the key layout is code, and skips a change that did not raise the
 * count (a TTL attribute rewrite, say). A threshold claim item ({@code alert_month}, written by
 * {@link DynamoThresholdClaims}) gives one threshold change per {@code reached_at_<percent>} its new image has
 * and its old image had not: each claim is a conditional write that succeeds once, so each threshold once.
 */
public final class UsageStreamRecords {
    private static final Pattern DAILY_PK = Pattern.compile("(.+)#(\\d{4}-\\d{2}-\\d{2})");
    private static final Pattern ALERT_PK = Pattern.compile("(.+)#alert#(\\d{4}-\\d{2})");
    private static final Pattern REACHED = Pattern.compile("reached_at_(\\d{1,4})");

    private UsageStreamRecords() {}

    public static List<UsageChange> changes(DynamodbEvent event) {
        List<UsageChange> changes = new ArrayList<>();
        if (event == null || event.getRecords() == null) return changes;
        for (DynamodbEvent.DynamodbStreamRecord record : event.getRecords()) {
            if (!"INSERT".equals(record.getEventName()) && !"MODIFY".equals(record.getEventName())) continue;
            if (record.getDynamodb() == null) continue;
            Map<String, AttributeValue> now = record.getDynamodb().getNewImage();
            if (now != null && now.containsKey(DynamoThresholdClaims.ALERT_MONTH)) {
                thresholds(record, now, changes);
                continue;
            }
            if (now == null || !now.containsKey("day_bucket")) continue;
            var pk = DAILY_PK.matcher(text(now, "pk"));
            if (!pk.matches()) continue;
            long count = number(now, "count");
            Map<String, AttributeValue> before = record.getDynamodb().getOldImage();
            if (before != null && before.containsKey("count") && number(before, "count") >= count) continue;
            changes.add(new UsageChange(record.getDynamodb().getSequenceNumber(), pk.group(1), pk.group(2), count));
        }
        return changes;
    }

    private static void thresholds(DynamodbEvent.DynamodbStreamRecord record, Map<String, AttributeValue> now,
                                   List<UsageChange> changes) {
        var pk = ALERT_PK.matcher(text(now, "pk"));
        if (!pk.matches() || !pk.group(2).equals(text(now, DynamoThresholdClaims.ALERT_MONTH))) return;
        Map<String, AttributeValue> before = record.getDynamodb().getOldImage();
        java.util.SortedSet<Integer> reached = new java.util.TreeSet<>();
        for (String name : now.keySet()) {
            var p = REACHED.matcher(name);
            if (p.matches() && (before == null || !before.containsKey(name))) reached.add(Integer.parseInt(p.group(1)));
        }
        for (int percent : reached) {
            ThresholdAlert alert = new ThresholdAlert(pk.group(1), pk.group(2), percent,
                    number(now, DynamoThresholdClaims.QUOTA_AT + percent), number(now, "used_at_" + percent));
            // one record may carry several (never today: one claim per write); the id stays unique per frame
            String id = record.getDynamodb().getSequenceNumber() + (reached.size() > 1 ? "-" + percent : "");
            changes.add(UsageChange.threshold(id, alert));
        }
    }

    private static String text(Map<String, AttributeValue> image, String name) {
        AttributeValue v = image.get(name);
        return v == null || v.getS() == null ? "" : v.getS();
    }

    private static long number(Map<String, AttributeValue> image, String name) {
        AttributeValue v = image.get(name);
        return v == null || v.getN() == null ? 0 : Long.parseLong(v.getN());
    }
}
