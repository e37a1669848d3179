package dev.usagetracker.analytics;

import dev.usagetracker.ingest.HitOutcome;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One row of a day's endpoint summary: its hits, how many of them had a status of each class, and the
 * latency bins of those that had a duration ({@link LatencySketch}). Hits without a status are the
 * row's {@code unknown}: {@code count} minus the classes ({@link HitOutcome#statusClass}).
 */
public final class RowStats {
    /** Field suffixes of the status classes in the Redis mirror. */
    static final String[] CLASSES = HitOutcome.STATUS_CLASSES.toArray(String[]::new);

    private long count;
    private final long[] classes = new long[4];
    private final Map<Integer, Long> bins = new TreeMap<>();

    public void add(Integer status, Double durationMs) {
        count++;
        int c = classOf(status);
        if (c >= 0) classes[c]++;
        if (durationMs != null) bins.merge(LatencySketch.bin(durationMs), 1L, Long::sum);
    }

    static int classOf(Integer status) {
        return HitOutcome.statusClass(status);
    }

    public void addAll(RowStats other) {
        count += other.count;
        for (int i = 0; i < classes.length; i++) classes[i] += other.classes[i];
        other.bins.forEach((b, n) -> bins.merge(b, n, Long::sum));
    }

    /** Sets what the Redis mirror holds for a row: its count and each field suffix's counter. */
    static RowStats of(long count, Map<String, Long> suffixes) {
        RowStats r = new RowStats();
        r.count = count;
        suffixes.forEach((suffix, n) -> {
            for (int i = 0; i < CLASSES.length; i++) {
                if (CLASSES[i].equals(suffix)) {
                    r.classes[i] = n;
                    return;
                }
            }
            Integer bin = LatencySketch.parseField(suffix);
            if (bin != null) r.bins.put(bin, n);
        });
        return r;
    }

    /** The row's non-zero counters by field suffix (status classes and latency bins), for the mirror. */
    Map<String, Long> suffixes() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < CLASSES.length; i++) if (classes[i] > 0) out.put(CLASSES[i], classes[i]);
        bins.forEach((b, n) -> out.put(LatencySketch.field(b), n));
        return out;
    }

    public long count() {
        return count;
    }

    /** {"2xx","3xx","4xx","5xx","unknown"}, adding up to {@link #count}. */
    public Map<String, Long> statuses() {
        return UsageAnalytics.statuses(new long[] {count, classes[0], classes[1], classes[2], classes[3]});
    }

    public LatencySketch.Percentiles durationMs() {
        return LatencySketch.percentiles(bins);
    }
}
