package dev.usagetracker.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stated accuracy, measured: 100,000 log-normal durations (median 50 ms, σ = 1), their p50/p95/p99
 * from the bins against the exact order statistics, every error printed and within 1 %.
 */
class LatencySketchTest {

    @Test
    void percentilesOf100000LogNormalDurationsAreWithinTheStatedRelativeAccuracy() {
        Random random = new Random(23);
        double[] exact = new double[100_000];
        RowStats mirror = new RowStats();
        RowStats[] shards = {new RowStats(), new RowStats(), new RowStats()};
        for (int i = 0; i < exact.length; i++) {
            double ms = Math.round(Math.exp(Math.log(50) + random.nextGaussian()) * 1000) / 1000.0; // as ingest keeps it
            exact[i] = ms;
            mirror.add(200, ms);
            shards[i % 3].add(200, ms); // three consumer batches whose bins are added, as Redis HINCRBY does
        }
        Arrays.sort(exact);
        RowStats merged = new RowStats();
        for (RowStats s : shards) merged.addAll(s);

        LatencySketch.Percentiles p = mirror.durationMs();
        double[] estimates = {p.p50(), p.p95(), p.p99()};
        double[] quantiles = {0.50, 0.95, 0.99};
        for (int i = 0; i < quantiles.length; i++) {
            double truth = exact[(int) Math.round(quantiles[i] * (exact.length - 1))];
            double error = Math.abs(estimates[i] - truth) / truth;
            System.out.printf("p%.0f exact %.3f ms, sketch %.3f ms, relative error %.4f %% (stated %.0f %%)%n",
                    quantiles[i] * 100, truth, estimates[i], error * 100, LatencySketch.RELATIVE_ACCURACY * 100);
            assertThat(error).as("p%.0f", quantiles[i] * 100).isLessThanOrEqualTo(LatencySketch.RELATIVE_ACCURACY);
        }
        assertThat(merged.durationMs()).as("merging bins is adding them").isEqualTo(p);
    }

    @Test
    void theBinsSurviveTheMirrorsFieldNames() {
        RowStats row = new RowStats();
        for (double ms : new double[] {0, 0, 0.0005, 1, 12.5, 12.6, 900, 3_600_000}) row.add(503, ms);
        row.add(null, null);

        Map<String, Long> fields = new HashMap<>(row.suffixes());
        RowStats read = RowStats.of(row.count(), fields);

        assertThat(fields).containsEntry("5xx", 8L).containsEntry("dz", 2L).containsEntry("d" + LatencySketch.bin(0.0005), 1L);
        assertThat(read.durationMs()).isEqualTo(row.durationMs());
        assertThat(read.statuses()).isEqualTo(row.statuses()).containsEntry("unknown", 1L);
        assertThat(row.durationMs().p99()).isCloseTo(900, org.assertj.core.data.Percentage.withPercentage(1)); // rank 0.99 × 7 of 8
    }

    @Test
    void noDurationMeansNoPercentiles() {
        RowStats row = new RowStats();
        row.add(200, null);
        assertThat(row.durationMs()).isNull();
    }
}
