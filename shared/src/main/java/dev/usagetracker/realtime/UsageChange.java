package dev.usagetracker.realtime;

/**
 * A daily aggregate that changed, as the Usage table's stream reports it: {@code id} orders changes of
 * one source (a DynamoDB stream sequence number on AWS, a Redis stream id locally).
 */
public record UsageChange(String id, String clientId, String date, long count) {
    public UsageMessage message() {
        return new UsageMessage(clientId, date, count);
    }
}
