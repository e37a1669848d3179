package dev.usagetracker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PrimingTest {
    private final Set<String> ran = ConcurrentHashMap.newKeySet();

    private List<Priming.Step> steps() {
        return List.of(new Priming.Step("a", () -> ran.add("a")),
                new Priming.Step("broken", () -> { throw new IllegalStateException("dependency down"); }),
                new Priming.Step("b", () -> ran.add("b")));
    }

    @Test
    void initPrimesEveryStepAtOnceAndAFailingStepDoesNotFailTheContainer() {
        new Priming(Priming.Mode.INIT).prime(steps());
        assertThat(ran).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void checkpointModePrimesOnlyBeforeTheSnapshotIsTaken() {
        Priming priming = new Priming(Priming.Mode.CHECKPOINT);
        priming.prime(steps());
        assertThat(ran).isEmpty();
        priming.beforeCheckpoint(null);
        assertThat(ran).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void offNeverPrimes() {
        Priming priming = new Priming(Priming.Mode.OFF);
        priming.prime(steps());
        priming.beforeCheckpoint(null);
        assertThat(ran).isEmpty();
    }

    @Test
    void everyRestoredCopyRunsTheRestoreActions() {
        Priming priming = new Priming(Priming.Mode.INIT);
        AtomicInteger reseeded = new AtomicInteger();
        priming.onRestore(reseeded::incrementAndGet);
        priming.afterRestore(null);
        priming.afterRestore(null);
        assertThat(reseeded).hasValue(2);
    }

    @Test
    void modeComesFromThePrimingVariableAndDefaultsToTheSnapshot() {
        assertThat(Priming.mode(Map.of())).isEqualTo(Priming.Mode.CHECKPOINT);
        assertThat(Priming.mode(Map.of("PRIMING", "init"))).isEqualTo(Priming.Mode.INIT);
        assertThat(Priming.mode(Map.of("PRIMING", "off"))).isEqualTo(Priming.Mode.OFF);
        assertThat(Priming.mode(Map.of("PRIMING", "checkpoint"))).isEqualTo(Priming.Mode.CHECKPOINT);
    }

    @Test
    void reseedingKeepsTheSharedRandomUsable() {
        Entropy.reseed();
        assertThat(Entropy.random().nextLong(10, 20)).isBetween(10L, 19L);
    }
}
