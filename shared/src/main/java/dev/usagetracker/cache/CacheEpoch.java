package dev.usagetracker.cache;

import dev.usagetracker.redis.Redis;
import java.time.Clock;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The cache's global epoch ({@code usage:epoch}), part of every cache version beside the scope's own
 * counter ({@link ResponseCache}): one INCR retires every cached answer. It repairs what a skipped version
 * bump leaves behind. When a commit's bumps cannot reach Redis (down, unreachable, breaker open), the
 * entries cached before the commit stay under versions nobody bumped, and once Redis is back they would
 * be served as hits with the old numbers. So the writer that skipped notes it twice: in its container
 * (it bumps the epoch with its next Redis writes that go through) and in DynamoDB, because a Lambda
 * container may be frozen or recycled before Redis returns; the scheduled prefetch turns the durable
 * note into an epoch bump and clears it. Skips are rare, so the note costs nothing in steady state; the
 * prefetch reads it once a minute.
 */
public final class CacheEpoch {
    private static final Logger LOG = LoggerFactory.getLogger(CacheEpoch.class);

    /** The epoch's counter: one INCR; throws {@link Redis.UnavailableException} when Redis cannot answer. */
    @FunctionalInterface
    public interface Counter {
        long bump();
    }

    /**
     * The durable note "a version bump was skipped": a count of skips, so clearing it after a bump cannot
     * erase a skip noted while the bump ran. Failures are the store's own (SDK) exceptions.
     */
    public interface DueMarker {
        /** Adds one skip, noted at {@code at}. */
        void mark(Instant at);

        /** The skips noted and not yet cleared, if any (a consistent read). */
        OptionalLong due();

        /** Clears the note if it still holds {@code seen} skips; false when another was noted since. */
        boolean clear(long seen);
    }

    /** What the prefetch's repair did. */
    public enum Repair {
        /** No skipped bump noted: nothing to do. */
        NOTHING_DUE,
        /** The epoch was bumped; the note is cleared, or stays if a skip was noted meanwhile. */
        BUMPED,
        /** A skip is noted but Redis cannot take the bump yet: the note stays for the next run. */
        STILL_DUE,
        /** The note could not be read (DynamoDB unavailable): the next run reads it again. */
        NOT_READ
    }

    private final Counter counter;
    private final DueMarker marker;
    private final Clock clock;
    /** This container skipped a bump and has not bumped the epoch since. */
    private final AtomicBoolean owed = new AtomicBoolean();

    public CacheEpoch(Counter counter, DueMarker marker, Clock clock) {
        this.counter = counter;
        this.marker = marker;
        this.clock = clock;
    }

    /** The epoch kept in Redis under {@link #key}. */
    public static CacheEpoch inRedis(Redis redis, DueMarker marker, Clock clock) {
        return new CacheEpoch(() -> redis.call(c -> c.incr(key(redis))), marker, clock);
    }

    public static String key(Redis redis) {
        return redis.key("usage", "epoch");
    }

    /**
     * A writer committed a change whose version bumps did not reach Redis. Never throws: a note that
     * cannot be written leaves this container's own bump, and at worst the cache TTL.
     */
    public void skipped() {
        owed.set(true);
        try {
            marker.mark(clock.instant());
        } catch (SdkException e) {
            LOG.error("cache epoch note not written ({}); cached answers may stay stale until this container "
                    + "reaches Redis again or for at most {}", e.getClass().getSimpleName(), ResponseCache.TTL);
        }
    }

    /**
     * A writer's Redis writes went through again: if this container skipped a bump earlier, it bumps the
     * epoch now rather than wait for the prefetch. Never throws; an owed bump that fails stays owed.
     */
    public void reachable() {
        // taken before the bump, so a skip noted while it runs stays owed
        if (!owed.getAndSet(false)) return;
        try {
            counter.bump();
        } catch (Redis.UnavailableException e) {
            owed.set(true);
            LOG.warn("owed cache epoch bump not made, redis unavailable ({}); retried with the next writes", e.getMessage());
        }
    }

    /**
     * The prefetch's step: a noted skip becomes an epoch bump, then the note is cleared if no skip was
     * noted in between (else it stays, and the next run bumps again: a spare bump only costs misses).
     */
    public Repair repairDue() {
        OptionalLong due;
        try {
            due = marker.due();
        } catch (SdkException e) {
            // the rest of the prefetch (Redis only) still runs
            LOG.warn("cache epoch note not read ({}); read again next run", e.getClass().getSimpleName());
            return Repair.NOT_READ;
        }
        if (due.isEmpty()) return Repair.NOTHING_DUE;
        try {
            counter.bump();
        } catch (Redis.UnavailableException e) {
            return Repair.STILL_DUE;
        }
        try {
            if (!marker.clear(due.getAsLong())) LOG.info("cache epoch bumped; a newer skip is noted, bumped again next run");
        } catch (SdkException e) {
            LOG.warn("cache epoch bumped, note not cleared ({}); bumped again next run", e.getClass().getSimpleName());
        }
        return Repair.BUMPED;
    }
}
