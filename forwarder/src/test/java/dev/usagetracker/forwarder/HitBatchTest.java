package dev.usagetracker.forwarder;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HitBatchTest {
    static List<HitBatch.Entry> entries(int n, String endpointPrefix) {
        List<HitBatch.Entry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            entries.add(new HitBatch.Entry("event-" + i, new ForwardedHit("203.0.113.1", endpointPrefix + i,
                    Instant.ofEpochMilli(1_765_015_200_000L + i), "GET", 200, 1.5)));
        }
        return entries;
    }

    @Test
    void theSamePayloadPacksIntoTheSameBatchesUnderTheSameKeys() {
        List<HitBatch> first = HitBatch.pack("/aws/g", "s", entries(1_234, "/p"), 500);
        List<HitBatch> again = HitBatch.pack("/aws/g", "s", entries(1_234, "/p"), 500);
        assertThat(first).extracting(HitBatch::size).containsExactly(500, 500, 234);
        assertThat(first).extracting(HitBatch::idempotencyKey).containsExactlyElementsOf(again.stream().map(HitBatch::idempotencyKey).toList());
        assertThat(first.getFirst().body()).isEqualTo(again.getFirst().body());
        assertThat(first.stream().map(HitBatch::idempotencyKey).distinct()).hasSize(3);
        assertThat(first.getFirst().idempotencyKey()).matches("cwl-[0-9a-f]{64}");
    }

    @Test
    void theSameEventIdsInAnotherStreamOrGroupAreOtherBatches() {
        String key = HitBatch.pack("/aws/g", "s", entries(3, "/p"), 500).getFirst().idempotencyKey();
        assertThat(HitBatch.pack("/aws/g", "t", entries(3, "/p"), 500).getFirst().idempotencyKey()).isNotEqualTo(key);
        assertThat(HitBatch.pack("/aws/h", "s", entries(3, "/p"), 500).getFirst().idempotencyKey()).isNotEqualTo(key);
    }

    @Test
    void bodiesStayUnderTheServicesLimitWhateverTheCount() {
        List<HitBatch> batches = HitBatch.pack("/aws/g", "s", entries(500, "/" + "x".repeat(1_900) + "/"), 500);
        assertThat(batches.size()).isGreaterThan(1);
        assertThat(batches).allSatisfy(b -> assertThat(b.body().length).isLessThanOrEqualTo(HitBatch.MAX_BODY_BYTES));
        assertThat(batches.stream().mapToInt(HitBatch::size).sum()).isEqualTo(500);
    }

    @Test
    void halvesAndRemaindersAreKeyedByTheirOwnEvents() {
        HitBatch batch = HitBatch.of("/aws/g", "s", entries(5, "/p"));
        List<HitBatch> halves = batch.halves("/aws/g", "s");
        assertThat(halves).extracting(HitBatch::size).containsExactly(2, 3);
        assertThat(halves.get(1).idempotencyKey()).isEqualTo(HitBatch.of("/aws/g", "s", entries(5, "/p").subList(2, 5)).idempotencyKey());
        HitBatch rest = batch.without(Set.of(0, 3), "/aws/g", "s");
        assertThat(new String(rest.body(), StandardCharsets.UTF_8)).contains("/p1", "/p2", "/p4").doesNotContain("/p0", "/p3");
        assertThat(batch.without(Set.of(0, 1, 2, 3, 4), "/aws/g", "s")).isNull();
    }

    @Test
    void theBodyCarriesEveryFieldAsTheServiceNamesThem() {
        String body = new String(HitBatch.of("/aws/g", "s", entries(1, "/p")).body(), StandardCharsets.UTF_8);
        assertThat(body).isEqualTo("{\"hits\":[{\"ip\":\"203.0.113.1\",\"endpoint\":\"/p0\",\"timestamp\":\"2025-12-06T10:00:00Z\","
                + "\"method\":\"GET\",\"status\":200,\"duration_ms\":1.5}]}");
    }
}
