package dev.usagetracker.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.ingest.HitBatch;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RecountTest {
    private static final Instant NOON = Instant.parse("2026-12-06T12:00:00Z");

    @Test
    void aDayIsReadFromTheLastMinutesOfTheDayBeforeToTheDayOfNow() {
        assertThat(Recount.partitions("2026-12-06", NOON))
                .containsExactly(LocalDate.parse("2026-12-05"), LocalDate.parse("2026-12-06"));
        // yesterday's hits may still arrive today
        assertThat(Recount.partitions("2026-12-05", NOON)).containsExactly(LocalDate.parse("2026-12-04"),
                LocalDate.parse("2026-12-05"), LocalDate.parse("2026-12-06"));
        // a part received on a clock a few minutes ahead lands in tomorrow's partition near midnight
        assertThat(Recount.partitions("2026-12-06", Instant.parse("2026-12-06T23:55:00Z")))
                .containsExactly(LocalDate.parse("2026-12-05"), LocalDate.parse("2026-12-06"), LocalDate.parse("2026-12-07"));
    }

    @Test
    void lightGroupsAreFewPartsOnARecentLightDay() {
        List<HitBatch> one = List.of(part(1));
        assertThat(Recount.light(one, 0, Set.of("2026-12-06"), NOON)).isTrue();
        assertThat(Recount.light(one, Recount.LIGHT_DAY_HITS - 1, Set.of("2026-12-06"), NOON)).isTrue();
        assertThat(Recount.light(one, Recount.LIGHT_DAY_HITS, Set.of("2026-12-06"), NOON)).as("the day is heavy").isFalse();
        assertThat(Recount.light(List.of(part(Recount.LIGHT_DAY_HITS + 1)), 0, Set.of("2026-12-06"), NOON)).isFalse();
        List<HitBatch> many = new ArrayList<>();
        for (int i = 0; i <= Recount.MAX_LIGHT_PARTS; i++) many.add(part(1));
        assertThat(Recount.light(many, 0, Set.of("2026-12-06"), NOON)).as("too many parts").isFalse();
        assertThat(Recount.light(one, 0, Set.of("2026-12-04"), NOON)).as("a late hit two days back").isFalse();
        assertThat(Recount.light(List.of(), 0, Set.of(), NOON)).isFalse();
    }

    @Test
    void tallyCountsEachTargetDayAndHourWithStatusClasses() {
        List<HitBatch.PackedHit> hits = List.of(
                hit("2026-12-06T12:10:00Z", 200), hit("2026-12-06T12:59:59.999Z", 503), hit("2026-12-06T13:00:00Z", null),
                hit("2026-12-05T23:59:00Z", 404));
        Map<String, long[]> t = Recount.tally(hits, List.of("2026-12-06", "2026-12-06T12", "2026-12-06T14"));
        assertThat(t.get("2026-12-06")).containsExactly(3, 1, 0, 0, 1);
        assertThat(t.get("2026-12-06T12")).containsExactly(2, 1, 0, 0, 1);
        assertThat(t.get("2026-12-06T14")).as("a target without hits").containsExactly(0, 0, 0, 0, 0);
        assertThat(t).doesNotContainKey("2026-12-05");
    }

    @Test
    void aFreshCountIsWrittenOnlyWhenItIsLargerThanTheValueRead() {
        assertThat(Recount.decide(null, new long[] {1, 0, 0, 0, 0})).isEqualTo(Recount.Step.WRITE);
        assertThat(Recount.decide(null, new long[] {0, 0, 0, 0, 0})).isEqualTo(Recount.Step.DONE);
        assertThat(Recount.decide(new long[] {4, 0, 0, 0, 0}, new long[] {5, 0, 0, 0, 0})).isEqualTo(Recount.Step.WRITE);
        assertThat(Recount.decide(new long[] {5, 0, 0, 0, 0}, new long[] {5, 0, 0, 0, 0})).isEqualTo(Recount.Step.DONE);
        assertThat(Recount.decide(new long[] {6, 0, 0, 0, 0}, new long[] {5, 0, 0, 0, 0})).as("never decrease")
                .isEqualTo(Recount.Step.BEHIND);
    }

    @Test
    void rawItemsOfAnErasedNamesakeAreNotCounted() {
        Instant received = Instant.parse("2026-12-06T11:59:00.123Z");
        assertThat(Recount.receivedAt("2026-12-06T11:59:00.123Z#batch#0")).isEqualTo(received);
        assertThat(Recount.receivedAt("2026-12-06T11:59:00Z#batch#0")).isEqualTo(Instant.parse("2026-12-06T11:59:00Z"));
        long skew = 10_000;
        assertThat(Recount.ofThisRegistration(received, null, skew)).isTrue();
        assertThat(Recount.ofThisRegistration(received, received.toEpochMilli() + skew, skew)).isTrue();
        assertThat(Recount.ofThisRegistration(received, received.toEpochMilli() + skew + 1, skew)).isFalse();
    }

    private static HitBatch part(long hits) {
        List<HitBatch.PackedHit> packed = new ArrayList<>();
        for (int i = 0; i < hits; i++) packed.add(new HitBatch.PackedHit(NOON.toEpochMilli(), "192.0.2.1", "/a"));
        return new HitBatch(1, "b" + hits, 0, 0, "c", NOON, packed);
    }

    private static HitBatch.PackedHit hit(String at, Integer status) {
        return new HitBatch.PackedHit(Instant.parse(at).toEpochMilli(), "192.0.2.1", "/a", null, status, null);
    }
}
