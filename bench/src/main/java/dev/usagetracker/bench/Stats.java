package dev.usagetracker.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Order statistics of repeated measurements. */
record Stats(int n, double min, double median, double max, double p95, double p99) {
    static Stats of(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        return new Stats(v.length, v[0], percentile(v, 50), v[v.length - 1], percentile(v, 95), percentile(v, 99));
    }

    static Stats ofLongs(long[] nanos, double scale) {
        return of(Arrays.stream(nanos).mapToDouble(x -> x / scale).boxed().toList());
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    String minMedMax() {
        return String.format(Locale.ROOT, "%.0f / %.0f / %.0f", min, median, max);
    }
}
