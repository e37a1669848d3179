package dev.usagetracker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bench/smoke: every benchmark at tiny sizes, inside ./scripts/test, so none of them can rot. Asserts what
 * they compute and check, never how fast anything was. The ingest paths' benchmarks are in
 * {@link IngestBenchSmokeIT}, which the module's second test JVM runs beside this one.
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

    @org.junit.jupiter.api.AfterEach
    void show() {
        System.out.println(text()); // in the surefire report, for when an assertion fails
    }

    private String text() {
        return output.toString(StandardCharsets.UTF_8);
    }
}
