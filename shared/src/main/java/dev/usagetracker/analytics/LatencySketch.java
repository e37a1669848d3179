package dev.usagetracker.analytics;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.SparseStore;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Map;

/**
 * Durations as DDSketch bins (DESIGN.md §2b): a duration falls in bin {@code ceil(log_γ(ms))} with
 * γ = (1+α)/(1−α), so any percentile read from the bins is within {@value #RELATIVE_ACCURACY} (1 %)
 * of the true value at that rank. Bins are plain counters, so the consumer's Redis mirror adds them
 * with {@code HINCRBY} and a day rebuilt from raw hits produces the very same bins: merging is adding.
 * Durations below the smallest indexable value (0 ms included) share the zero bin.
 */
public final class LatencySketch {
    public static final double RELATIVE_ACCURACY = 0.01;
    static final IndexMapping MAPPING = new LogarithmicMapping(RELATIVE_ACCURACY);
    /** The bin of 0 ms (and anything too small to index). */
    public static final int ZERO_BIN = Integer.MIN_VALUE;

    private LatencySketch() {}

    public static int bin(double ms) {
        return ms < MAPPING.minIndexableValue() ? ZERO_BIN : MAPPING.index(ms);
    }

    /** The field suffix a bin is stored under: {@code dz} for zeros, {@code d<index>} otherwise. */
    public static String field(int bin) {
        return bin == ZERO_BIN ? "dz" : "d" + bin;
    }

    /** The bin of a field suffix written by {@link #field}, or null for another suffix. */
    public static Integer parseField(String suffix) {
        if (suffix.equals("dz")) return ZERO_BIN;
        if (suffix.length() < 2 || suffix.charAt(0) != 'd') return null;
        try {
            return Integer.parseInt(suffix, 1, suffix.length(), 10);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** p50, p95 and p99 of the bins, or null when they hold nothing. */
    public static Percentiles percentiles(Map<Integer, Long> bins) {
        DDSketch sketch = new DDSketch(MAPPING, SparseStore::new);
        bins.forEach((bin, n) -> {
            if (n <= 0) return;
            if (bin == ZERO_BIN) sketch.accept(0, n);
            else sketch.getPositiveValueStore().add(bin, n.doubleValue());
        });
        if (sketch.isEmpty()) return null;
        double[] q = sketch.getValuesAtQuantiles(new double[] {0.50, 0.95, 0.99});
        return new Percentiles(round(q[0]), round(q[1]), round(q[2]));
    }

    /** Five significant digits: more than a 1 % estimate can claim, and 0.005 % at most of rounding on top. */
    private static double round(double ms) {
        return new BigDecimal(ms).round(new MathContext(5)).doubleValue();
    }

    /** Percentiles of a row's durations in milliseconds. */
    public record Percentiles(double p50, double p95, double p99) {}
}
