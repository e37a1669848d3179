package dev.usagetracker.ingest;

import java.time.Instant;
import java.util.List;

/**
 * One ingest request's hits as they travel through SQS: the unit of deduplication. A request whose
 * hits would not fit one message is split into parts; {@code batch_id#part} is unique and stable, so
 * a redelivered message is recognised, and each hit's event id is {@code batch_id.index}.
 */
public record HitBatch(int v, String batchId, int part, int offset, String clientId, Instant receivedAt,
                       List<PackedHit> hits) {

    /**
     * A part is written in one DynamoDB transaction (≤ 100 items) with its daily and hourly aggregates,
     * so the ingest side splits a request whose hits span more distinct days and hours than this.
     */
    public static final int MAX_AGGREGATES_PER_PART = 96;

    /** A hit in transit: epoch millis, address, endpoint. */
    public record PackedHit(long t, String ip, String ep) {
        public Instant timestamp() {
            return Instant.ofEpochMilli(t);
        }
    }

    public String key() {
        return batchId + "#" + part;
    }

    public String eventId(int indexInPart) {
        return batchId + "." + (offset + indexInPart);
    }
}
