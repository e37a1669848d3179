package dev.usagetracker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.TestClock;
import dev.usagetracker.redis.Redis;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

class CacheEpochTest {
    final TestClock clock = new TestClock(Instant.parse("2026-12-06T10:00:00Z"));
    final FakeCounter counter = new FakeCounter();
    final FakeMarker marker = new FakeMarker();
    final CacheEpoch epoch = new CacheEpoch(counter, marker, clock);

    @Test
    void aSkippedBumpIsNotedDurablyAndTheContainerBumpsOnceRedisTakesItsWritesAgain() {
        epoch.skipped();
        assertThat(marker.skipped).isEqualTo(1);
        assertThat(marker.markedAt).containsExactly(clock.instant());

        epoch.reachable();
        epoch.reachable();
        assertThat(counter.bumps).as("one bump for the skip, not one per batch").isEqualTo(1);
    }

    @Test
    void nothingIsBumpedWhileNoBumpWasSkipped() {
        epoch.reachable();
        assertThat(counter.bumps).isZero();
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.NOTHING_DUE);
        assertThat(counter.bumps).isZero();
    }

    @Test
    void anOwedBumpThatRedisRefusesStaysOwed() {
        epoch.skipped();
        counter.down = true;
        epoch.reachable();
        assertThat(counter.bumps).isZero();

        counter.down = false;
        epoch.reachable();
        assertThat(counter.bumps).isEqualTo(1);
    }

    @Test
    void whenTheNoteCannotBeWrittenTheContainerStillOwesTheBump() {
        marker.down = true;
        epoch.skipped(); // does not throw: the commit is done, only the cache is at stake
        assertThat(marker.skipped).isZero();

        epoch.reachable();
        assertThat(counter.bumps).isEqualTo(1);
    }

    @Test
    void theNoteOfAContainerThatIsGoneBecomesAnEpochBumpAndIsCleared() {
        new CacheEpoch(counter, marker, clock).skipped(); // the consumer's container, never seen again
        CacheEpoch prefetch = new CacheEpoch(counter, marker, clock);

        assertThat(prefetch.repairDue()).isEqualTo(CacheEpoch.Repair.BUMPED);
        assertThat(counter.bumps).isEqualTo(1);
        assertThat(marker.due()).isEmpty();
        assertThat(prefetch.repairDue()).isEqualTo(CacheEpoch.Repair.NOTHING_DUE);
        assertThat(counter.bumps).isEqualTo(1);
    }

    @Test
    void theNoteStaysWhileRedisCannotTakeTheBump() {
        epoch.skipped();
        counter.down = true;
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.STILL_DUE);
        assertThat(marker.due()).hasValue(1);

        counter.down = false;
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.BUMPED);
        assertThat(marker.due()).isEmpty();
    }

    @Test
    void aSkipNotedWhileThePrefetchBumpsIsNotClearedWithTheOneBefore() {
        epoch.skipped();
        // another container notes a skip between the prefetch's read of the note and its clear
        counter.onBump = () -> new CacheEpoch(counter, marker, clock).skipped();
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.BUMPED);
        assertThat(marker.due()).as("the second skip may postdate the bump").hasValue(2);

        counter.onBump = () -> { };
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.BUMPED);
        assertThat(counter.bumps).isEqualTo(2);
        assertThat(marker.due()).isEmpty();
    }

    @Test
    void aNoteThatCannotBeReadOrClearedLeavesItForTheNextRun() {
        epoch.skipped();
        marker.down = true;
        assertThat(epoch.repairDue()).as("the prefetch goes on without it").isEqualTo(CacheEpoch.Repair.NOT_READ);
        assertThat(counter.bumps).isZero();

        marker.downAfterRead = true;
        marker.down = false;
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.BUMPED);
        assertThat(marker.due()).hasValue(1);
        marker.downAfterRead = false;
        assertThat(epoch.repairDue()).isEqualTo(CacheEpoch.Repair.BUMPED);
        assertThat(marker.due()).isEmpty();
        assertThat(counter.bumps).isEqualTo(2);
    }

    static final class FakeCounter implements CacheEpoch.Counter {
        int bumps;
        boolean down;
        Runnable onBump = () -> { };

        @Override
        public long bump() {
            if (down) throw new Redis.UnavailableException("redis circuit breaker is open", null);
            onBump.run();
            return ++bumps;
        }
    }

    static final class FakeMarker implements CacheEpoch.DueMarker {
        long skipped;
        boolean down;
        boolean downAfterRead;
        final List<Instant> markedAt = new ArrayList<>();

        @Override
        public void mark(Instant at) {
            if (down) throw SdkClientException.create("throttled");
            skipped++;
            markedAt.add(at);
        }

        @Override
        public OptionalLong due() {
            if (down) throw SdkClientException.create("unreachable");
            return skipped == 0 ? OptionalLong.empty() : OptionalLong.of(skipped);
        }

        @Override
        public boolean clear(long seen) {
            if (down || downAfterRead) throw SdkClientException.create("unreachable");
            if (skipped != seen) return false;
            skipped = 0;
            return true;
        }
    }
}
