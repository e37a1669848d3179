package dev.usagetracker.analytics;

import dev.usagetracker.ingest.HitBatch;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The reads analytics needs beyond {@link dev.usagetracker.usage.UsageStore}: hourly aggregates and raw hits. */
public interface AnalyticsStore {
    /** One client's count per hour ({@code yyyy-MM-ddTHH}); hours with no hits are absent. */
    Map<String, Long> hourlyCounts(String clientId, List<String> hours);

    /** Every client's count per hour (the by-hour index); clients and hours with no hits are absent. */
    Map<String, Map<String, Long>> hourlyCountsAllClients(List<String> hours);

    /** As {@link #hourlyCounts}, each hour as {count, 2xx, 3xx, 4xx, 5xx}. */
    Map<String, long[]> hourlyTallies(String clientId, List<String> hours);

    /** As {@link #hourlyCountsAllClients}, each hour as {count, 2xx, 3xx, 4xx, 5xx}. */
    Map<String, Map<String, long[]>> hourlyTalliesAllClients(List<String> hours);

    /**
     * Every hit of the raw-hit items a client's ingest requests left on {@code receivedOn} (the Hits
     * partition {@code client_id#day}), in arrival order; with {@code receivedFrom}, only items received
     * at or after it (an ISO instant prefix of the sort key). Returns what it read, for the cost figures.
     */
    ReadCost rawHits(String clientId, LocalDate receivedOn, String receivedFrom, Consumer<HitBatch.PackedHit> sink);

    /** Items and bytes read from the Hits table by one {@link #rawHits} call. */
    record ReadCost(long items, long bytes) {}
}
