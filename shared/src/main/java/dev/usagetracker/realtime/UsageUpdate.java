package dev.usagetracker.realtime;

/**
 * One aggregate change, announced after the consumer committed it: the client's new count for the
 * day (and for the hour) and the cache version that change produced. {@code eventId} is the Redis
 * stream id of the announcement, usable as an SSE {@code id:} and for {@code Last-Event-ID} resume;
 * empty before it is published.
 */
public record UsageUpdate(String eventId, String clientId, String date, String hour, long count, long hourCount,
                          long version) {
    public UsageUpdate withEventId(String id) {
        return new UsageUpdate(id, clientId, date, hour, count, hourCount, version);
    }
}
