package dev.usagetracker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bench/smoke: every benchmark at tiny sizes, inside ./scripts/test, so none of them can rot. Asserts what
 * they compute and check, never how fast anything was.
 */
class BenchSmokeIT {
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);

    @Test
    void coldStartProbeStartsEachVariantOfAFunctionJarAndGetsItsAnswer() throws Exception {
        List<ColdStartBench.Result> results = ColdStartBench.run(ColdStartBench.Options.parse(new String[] {"--smoke"}), out);
        assertThat(results).extracting(r -> r.function().logicalId()).containsExactly("IngestFunction", "HitConsumerFunction", "StreamFanoutFunction");
        for (ColdStartBench.Result r : results) {
            assertThat(r.runs().values()).allSatisfy(runs -> assertThat(runs).isNotEmpty().allSatisfy(run ->
                    assertThat(run.status()).isEqualTo(ColdStartBench.expectedStatus(r.function()))));
            assertThat(r.jarBytes()).isPositive(); // the 15 MB target is reported, not asserted
            assertThat(r.classCount().fromJar()).isPositive();
        }
        assertThat(text()).contains("machine:", "init+first", "target: every function jar < 15 MB");
    }

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
    void readsCostTheSameAsTheTableGrows() throws Exception {
        List<ReadsBench.Stage> stages = ReadsBench.run(ReadsBench.Options.parse(new String[] {"--smoke"}), out);
        assertThat(stages).hasSize(2);
        assertThat(stages.get(1).usageItems()).isGreaterThan(stages.get(0).usageItems());
        // The database path: /top asks every shard of every hour once, however much history the table holds.
        List<ReadsBench.Cost> topFromDatabase = stages.get(0).costs().get("/top (admin, 24 h) database");
        assertThat(topFromDatabase).allSatisfy(c -> {
            assertThat(c.cache()).isEqualTo("MISS");
            assertThat(c.requests()).isGreaterThanOrEqualTo(24 * 4);
        });
        double topRequests = topFromDatabase.getFirst().requests();
        assertThat(stages.get(1).costs().get("/top (admin, 24 h) database"))
                .allSatisfy(c -> assertThat(c.requests()).isEqualTo(topRequests));
        double dailyItems = stages.get(0).costs().get("/daily (client, 7 d) database").getFirst().itemsRead();
        assertThat(dailyItems).isPositive();
        assertThat(stages.get(1).costs().get("/daily (client, 7 d) database"))
                .allSatisfy(c -> assertThat(c.itemsRead()).isEqualTo(dailyItems));
        // The cached path: the versioned response cache answers without the database.
        for (ReadsBench.Stage stage : stages) {
            for (String route : List.of("/daily (client, 7 d) cached", "/top (admin, 24 h) cached")) {
                assertThat(stage.costs().get(route)).as(route).allSatisfy(c -> {
                    assertThat(c.cache()).isEqualTo("HIT");
                    assertThat(c.requests()).isZero();
                });
            }
        }
        assertThat(text()).contains("machine:", "O(table size)", "FLAT");
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
