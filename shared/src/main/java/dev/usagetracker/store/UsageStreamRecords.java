package dev.usagetracker.store;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import dev.usagetracker.realtime.UsageChange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Usage table's DynamoDB stream, read as daily aggregate changes. The event source's filter already
 * passes only inserts and updates of daily items (those with a {@code day_bucket}); this checks again,
 * since a filter is configuration and the key layout is code, and skips a change that did not raise the
 * count (a TTL attribute rewrite, say).
 */
public final class UsageStreamRecords {
    private static final Pattern DAILY_PK = Pattern.compile("(.+)#(\\d{4}-\\d{2}-\\d{2})");

    private UsageStreamRecords() {}

    public static List<UsageChange> changes(DynamodbEvent event) {
        List<UsageChange> changes = new ArrayList<>();
        if (event == null || event.getRecords() == null) return changes;
        for (DynamodbEvent.DynamodbStreamRecord record : event.getRecords()) {
            if (!"INSERT".equals(record.getEventName()) && !"MODIFY".equals(record.getEventName())) continue;
            if (record.getDynamodb() == null) continue;
            Map<String, AttributeValue> now = record.getDynamodb().getNewImage();
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

    private static String text(Map<String, AttributeValue> image, String name) {
        AttributeValue v = image.get(name);
        return v == null || v.getS() == null ? "" : v.getS();
    }

    private static long number(Map<String, AttributeValue> image, String name) {
        AttributeValue v = image.get(name);
        return v == null || v.getN() == null ? 0 : Long.parseLong(v.getN());
    }
}
