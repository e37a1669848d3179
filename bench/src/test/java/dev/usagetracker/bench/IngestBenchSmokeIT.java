package dev.usagetracker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bench/smoke for the ingest paths (single hits and batches through the API, access logs through the
 * forwarder) at tiny sizes: what they count and price, never how fast anything was. A class of its own so
 * that the bench module's two test JVMs run it beside {@link BenchSmokeIT}; each JVM has its own counters.
 */
class IngestBenchSmokeIT {
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);

    @Test
    void ingestCountsEveryAcknowledgedHitOnceAndPricesItsWrites() throws Exception {
        IngestBench.Result r = IngestBench.run(IngestBench.Options.parse(new String[] {"--smoke"}), out);
        assertThat(r.counted()).isEqualTo(r.acknowledged());
        assertThat(r.batch().wruPerHit()).isPositive().isLessThanOrEqualTo(IngestBench.BATCH_TARGET_WRU);
        // A single-hit request costs at least its raw item: 1 WRU on the recount path (the default for light groups,
        // issue 28), 2 in a transaction; at most that plus both aggregates (2 WRU each in a transaction) when it is
        // alone in its batch, and the ConditionCheck (2 WRU more) only when ERASURE_DELAY_SECONDS cannot bound the read.
        assertThat(r.single().wruPerRequest()).isBetween(1.0, 8.0);
        assertThat(r.naiveWruPerHit()).isGreaterThanOrEqualTo(3.0);
        // Issue 28: the template's keys-only Usage indexes are written when an aggregate is created, never more often
        // than an INCLUDE [count] index would be (on every write of one); the index column prices the projection in use.
        for (IngestBench.Phase p : List.of(r.single(), r.batch())) {
            assertThat(p.index().projection()).as(p.name()).isEqualTo("KEYS_ONLY");
            assertThat(p.index().keysOnly()).as(p.name()).isBetween(0.0, p.index().include());
            assertThat(p.gsiWru()).as(p.name()).isEqualTo(p.index().keysOnly());
        }
        // The dashboards read while hits arrive: the consumer re-caches the ranking after each batch, so /top is served from Redis.
        long topHits = 0;
        for (IngestBench.Phase p : List.of(r.single(), r.batch())) {
            IngestBench.Reads top = p.reads().get("/top (admin, 24 h), every 500 ms");
            assertThat(top.cache()).as(p.name()).isNotEmpty();
            assertThat(top.cache().keySet()).as(p.name()).isSubsetOf("HIT", "MISS");
            topHits += top.cache().getOrDefault("HIT", 0L);
        }
        assertThat(topHits).isPositive();
        assertThat(text()).contains("machine:", "reads while hits arrive", "requests per 1,000 hits", "exactly once", "OK");
    }

    @Test
    void forwarderCountsEveryLineOnceAndPricesThePath() throws Exception {
        assertThat(ForwarderBench.run(1_000, 500, out)).as("accepted == lines == counted").isTrue();
        assertThat(text()).contains("machine:", "lines/s per invocation", "per 1,000 hits", "per million hits on this path",
                "counted exactly");
    }

    @org.junit.jupiter.api.AfterEach
    void show() {
        System.out.println(text()); // in the surefire report, for when an assertion fails
    }

    private String text() {
        return output.toString(StandardCharsets.UTF_8);
    }
}
