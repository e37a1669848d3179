package dev.usagetracker.store;

import dev.usagetracker.ingest.HitOutcome;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Status classes on the daily and hourly aggregate items: {@code s2}..{@code s5} count the hits of the
 * item's {@code count} whose status was 2xx..5xx (absent = 0; hits with an unknown status are in no
 * class). They ride in the consumer's existing {@code ADD}, so no item is added to its transaction.
 */
public final class StatusTally {
    static final List<String> ATTRIBUTES = List.of("s2", "s3", "s4", "s5");

    private StatusTally() {}

    /** {count, 2xx, 3xx, 4xx, 5xx}. */
    static long[] empty() {
        return new long[5];
    }

    static void add(long[] tally, Integer status) {
        tally[0]++;
        int c = HitOutcome.statusClass(status);
        if (c >= 0) tally[c + 1]++;
    }

    /** {count, 2xx, 3xx, 4xx, 5xx} of an aggregate item (zeros for what it lacks). */
    static long[] of(Map<String, AttributeValue> item) {
        long[] t = empty();
        AttributeValue n = item.get("count");
        if (n != null && n.n() != null) t[0] = Long.parseLong(n.n());
        for (int i = 0; i < ATTRIBUTES.size(); i++) {
            AttributeValue a = item.get(ATTRIBUTES.get(i));
            if (a != null && a.n() != null) t[i + 1] = Long.parseLong(a.n());
        }
        return t;
    }
}
