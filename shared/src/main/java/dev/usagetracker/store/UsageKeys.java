package dev.usagetracker.store;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Key layout of the Hits and Usage tables (docs/database.md). Aggregates live under
 * {@code client_id#yyyy-MM-dd} and {@code client_id#yyyy-MM-ddTHH}; the GSIs on day and hour buckets
 * are write-sharded ({@code bucket#shard}) so that one hour's writes spread over several partitions.
 */
public final class UsageKeys {
    static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH").withZone(ZoneOffset.UTC);

    private final int shards;

    public UsageKeys(int shards) {
        if (shards < 1 || shards > 64) throw new IllegalArgumentException("USAGE_SHARDS must be 1..64");
        this.shards = shards;
    }

    public int shards() {
        return shards;
    }

    public static String day(Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC).toString();
    }

    public static String hour(Instant t) {
        return HOUR.format(t);
    }

    public static String dailyPk(String clientId, String day) {
        return clientId + "#" + day;
    }

    public static String hourlyPk(String clientId, String hour) {
        return clientId + "#" + hour;
    }

    /** A client's aggregates always land in the same shard, so one query per shard finds each once. */
    public String shardOf(String clientId) {
        return Integer.toString(Math.floorMod(clientId.hashCode(), shards));
    }

    public String bucket(String dayOrHour, String shard) {
        return dayOrHour + "#" + shard;
    }
}
