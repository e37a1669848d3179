package dev.usagetracker.store;

import dev.usagetracker.ingest.HitBatch;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pure decisions of the ledger's recount path (issue 28; docs/reliability.md, "The recount path"):
 * which groups take it, which raw partitions hold every hit of a day, the absolute tallies of the
 * aggregates from raw hits, and whether a fresh count may replace the value that was read.
 *
 * <p>An aggregate's value is always the count of a set of raw items that exist ("accounted"): a
 * transaction adds exactly its own new items, and a recount writes the count of every item that existed
 * when it queried, conditional on the value being still the one it read <em>before</em> the query. Values
 * only grow, so an unchanged value means nothing was written in between, and the new value accounts for a
 * superset. When the fresh count equals the value read before it, every existing item is accounted.
 */
final class Recount {
    /**
     * A light group's day (its daily count before, plus its own hits) has at most this many hits: the
     * recount reads the whole client-day (≈ 0.3 KB per single-hit item, so ≤ 5 RRU consistent), which is
     * cheaper than the WRU a transaction would spend (2 WRU per raw item instead of 1, and ≥ 2 WRU more of
     * transactional aggregates); a heavy day keeps the transactional ADDs, whose cost per hit is low there.
     */
    static final long LIGHT_DAY_HITS = 64;
    /** Raw puts are one call each: a group with more parts is a busy client, better served by a transaction. */
    static final int MAX_LIGHT_PARTS = 25;
    /** A hit's timestamp may be up to 5 minutes after its request was received (HitValidator.MAX_FUTURE). */
    static final Duration EARLY = Duration.ofMinutes(5);
    /** A part received on another machine may be ahead of this clock: the next day's partition is read near midnight. */
    static final Duration AHEAD = Duration.ofMinutes(10);
    /** Days whose raw hits may spread over more received-day partitions than this are left to transactions. */
    static final int MAX_PARTITIONS = 3;

    private Recount() {}

    /**
     * The received-day partitions that can hold a hit of {@code day}: from the day of its start − 5 minutes
     * (a hit ahead of its receipt) to the day of {@code now} + {@link #AHEAD}.
     */
    static List<LocalDate> partitions(String day, Instant now) {
        LocalDate first = LocalDate.ofInstant(start(day).minus(EARLY), ZoneOffset.UTC);
        LocalDate last = LocalDate.ofInstant(now.plus(AHEAD), ZoneOffset.UTC);
        List<LocalDate> days = new ArrayList<>();
        for (LocalDate d = first; !d.isAfter(last); d = d.plusDays(1)) days.add(d);
        return days;
    }

    static Instant start(String day) {
        return LocalDate.parse(day).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    /**
     * Whether a client's admitted parts of one batch take the recount path: few parts, every day they touch
     * recent enough to be read in ≤ {@link #MAX_PARTITIONS} partitions, and the days light
     * ({@code dayHitsBefore}: the sum of the daily counts read for those days).
     */
    static boolean light(List<HitBatch> parts, long dayHitsBefore, Set<String> days, Instant now) {
        if (parts.isEmpty() || parts.size() > MAX_LIGHT_PARTS) return false;
        long hits = parts.stream().mapToLong(p -> p.hits().size()).sum();
        if (dayHitsBefore + hits > LIGHT_DAY_HITS) return false;
        for (String day : days) {
            List<LocalDate> partitions = partitions(day, now);
            if (partitions.isEmpty() || partitions.size() > MAX_PARTITIONS) return false;
        }
        return true;
    }

    /**
     * The {count, 2xx..5xx} tallies of {@code targets} (days {@code yyyy-mm-dd} and hours
     * {@code yyyy-mm-ddThh}) over {@code hits}; a target without hits has a zero tally.
     */
    static Map<String, long[]> tally(Iterable<HitBatch.PackedHit> hits, Collection<String> targets) {
        Map<String, long[]> tallies = new LinkedHashMap<>();
        for (String t : targets) tallies.put(t, StatusTally.empty());
        for (HitBatch.PackedHit hit : hits) {
            long[] day = tallies.get(UsageKeys.day(hit.timestamp()));
            if (day != null) StatusTally.add(day, hit.s());
            long[] hour = tallies.get(UsageKeys.hour(hit.timestamp()));
            if (hour != null) StatusTally.add(hour, hit.s());
        }
        return tallies;
    }

    /**
     * A raw item received before {@code createdMs} − skew belongs to an erased namesake: it is never admitted
     * (DynamoHitLedger.ClientRow.admits), so it is never counted either.
     */
    static boolean ofThisRegistration(Instant receivedAt, Long createdMs, long skewMillis) {
        return createdMs == null || receivedAt.toEpochMilli() + skewMillis >= createdMs;
    }

    /** The received time at the start of a raw item's sort key ({@code received_at#batch_id#part}). */
    static Instant receivedAt(String sortKey) {
        int hash = sortKey.indexOf('#');
        return Instant.parse(hash < 0 ? sortKey : sortKey.substring(0, hash));
    }

    enum Step {
        /** Write the fresh count, conditional on the value read. */
        WRITE,
        /** The value read already accounts for every item the query saw: nothing to write. */
        DONE,
        /** Fewer hits than the value: raw items outside the partitions read (should not happen); never decrease. */
        BEHIND
    }

    /** {@code seen}: the aggregate's tally read before the query, null when the item was absent. */
    static Step decide(long[] seen, long[] fresh) {
        long before = seen == null ? 0 : seen[0];
        if (fresh[0] > before) return Step.WRITE;
        return fresh[0] == before ? Step.DONE : Step.BEHIND;
    }
}
