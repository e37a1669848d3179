package dev.usagetracker.usage;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/** Reads of the aggregates; never of raw hits. */
public interface UsageStore {
    /** One client's count per day (days with no hits are absent). */
    Map<LocalDate, Long> dailyCounts(String clientId, List<LocalDate> days);

    /** Every client's count per day (clients and days with no hits are absent). */
    Map<String, Map<LocalDate, Long>> dailyCountsAllClients(List<LocalDate> days);

    /** Hits per client summed over the given hours ({@code yyyy-MM-ddTHH}). */
    Map<String, Long> hourlyTotals(List<String> hours);
}
