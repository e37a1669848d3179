package dev.usagetracker.analytics;

import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.store.UsageKeys;
import dev.usagetracker.usage.UsageStore;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's hits per endpoint template, day by day, exact against the daily aggregates: a day comes
 * from the Redis mirror when the mirror's {@code #total} equals the day's aggregate count; otherwise
 * (mirror lost, lagging, or never written) it is rebuilt from the raw Hits items and stored back in the
 * mirror. Raw hits live in the partition of the day they were received, so a day's hits are read from
 * its own partition, the last minutes of the day before (timestamps may be up to 5 minutes ahead) and
 * the following days' partitions until the count matches (late, back-dated hits) — never from
 * partitions outside that range.
 */
public final class EndpointBreakdown {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointBreakdown.class);
    /** HitValidator accepts timestamps up to 5 minutes ahead of their arrival. */
    static final Duration MAX_AHEAD = Duration.ofMinutes(5);

    private final UsageStore aggregates;
    private final AnalyticsStore store;
    private final Optional<EndpointMirror> mirror;
    private final Clock clock;
    private final AtomicLong rawItemsRead = new AtomicLong();
    private final AtomicLong rawBytesRead = new AtomicLong();

    public EndpointBreakdown(UsageStore aggregates, AnalyticsStore store, Optional<EndpointMirror> mirror, Clock clock) {
        this.aggregates = aggregates;
        this.store = store;
        this.mirror = mirror;
        this.clock = clock;
    }

    /** Raw-hit items and bytes this container has read (logged per request; the bench reads the log). */
    public AnalyticsStore.ReadCost rawRead() {
        return new AnalyticsStore.ReadCost(rawItemsRead.get(), rawBytesRead.get());
    }

    /** One tally per day of {@code days} (empty days included). */
    public Map<LocalDate, EndpointTally> days(String clientId, List<LocalDate> days) {
        Map<LocalDate, Long> counts = aggregates.dailyCounts(clientId, days);
        Map<LocalDate, EndpointTally> mirrored = Map.of();
        if (mirror.isPresent()) {
            try {
                mirrored = mirror.get().read(clientId, days);
            } catch (Redis.UnavailableException e) {
                mirrored = Map.of(); // the raw hits answer while Redis is away
            }
        }
        Map<LocalDate, EndpointTally> result = new LinkedHashMap<>();
        TreeSet<LocalDate> rebuild = new TreeSet<>();
        for (LocalDate day : days) {
            long expected = counts.getOrDefault(day, 0L);
            EndpointTally m = mirrored.get(day);
            if (expected == 0) result.put(day, new EndpointTally());
            else if (m != null && m.total() == expected) result.put(day, m);
            else rebuild.add(day);
        }
        if (!rebuild.isEmpty()) {
            Map<LocalDate, EndpointTally> rebuilt = fromRawHits(clientId, rebuild, counts);
            rebuilt.forEach((day, tally) -> {
                result.put(day, tally);
                if (tally.total() == counts.getOrDefault(day, 0L)) remember(clientId, day, tally);
                else LOG.warn("endpoint rebuild found {} hits where the aggregate has {}; not cached",
                        tally.total(), counts.getOrDefault(day, 0L));
            });
        }
        Map<LocalDate, EndpointTally> ordered = new LinkedHashMap<>();
        days.forEach(d -> ordered.put(d, result.get(d)));
        return ordered;
    }

    private Map<LocalDate, EndpointTally> fromRawHits(String clientId, TreeSet<LocalDate> wanted, Map<LocalDate, Long> counts) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        Map<LocalDate, EndpointTally> tallies = new HashMap<>();
        wanted.forEach(d -> tallies.put(d, new EndpointTally()));
        Set<LocalDate> read = new TreeSet<>();
        // Partitions in arrival order, so the first 1,000 templates are the day's first ones, as in the mirror.
        TreeSet<LocalDate> first = new TreeSet<>();
        for (LocalDate d : wanted) {
            first.add(d.minusDays(1));
            first.add(d);
            if (!d.plusDays(1).isAfter(today)) first.add(d.plusDays(1));
        }
        for (LocalDate partition : first) {
            boolean tailOnly = !wanted.contains(partition) && !wanted.contains(partition.minusDays(1))
                    && wanted.contains(partition.plusDays(1));
            String from = tailOnly ? partition.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC).minus(MAX_AHEAD).toString() : null;
            read(clientId, partition, from, tallies);
            read.add(partition);
        }
        // Late hits: keep reading later partitions (up to today) only while a day is still short.
        LocalDate next = first.last().plusDays(1);
        while (!next.isAfter(today) && short_(tallies, counts)) {
            if (read.add(next)) read(clientId, next, null, tallies);
            next = next.plusDays(1);
        }
        return tallies;
    }

    private void read(String clientId, LocalDate partition, String from, Map<LocalDate, EndpointTally> tallies) {
        AnalyticsStore.ReadCost cost = store.rawHits(clientId, partition, from, (HitBatch.PackedHit hit) -> {
            EndpointTally t = tallies.get(LocalDate.parse(UsageKeys.day(hit.timestamp())));
            if (t != null) t.add(RowKey.of(hit.m(), hit.ep()), hit.s(), hit.d());
        });
        rawItemsRead.addAndGet(cost.items());
        rawBytesRead.addAndGet(cost.bytes());
    }

    private static boolean short_(Map<LocalDate, EndpointTally> tallies, Map<LocalDate, Long> counts) {
        return tallies.entrySet().stream().anyMatch(e -> e.getValue().total() < counts.getOrDefault(e.getKey(), 0L));
    }

    private void remember(String clientId, LocalDate day, EndpointTally tally) {
        mirror.ifPresent(m -> {
            try {
                m.replace(clientId, day, tally);
            } catch (Redis.UnavailableException e) {
                // not kept this time; the next read rebuilds again
            }
        });
    }

    /** Sums days into one tally (per-day caps already applied). */
    public static EndpointTally sum(Iterable<EndpointTally> days) {
        EndpointTally all = new EndpointTally();
        days.forEach(all::addAll);
        return all;
    }

    static List<LocalDate> window(LocalDate today, int days) {
        List<LocalDate> w = new ArrayList<>(days);
        for (int i = days - 1; i >= 0; i--) w.add(today.minusDays(i));
        return w;
    }
}
