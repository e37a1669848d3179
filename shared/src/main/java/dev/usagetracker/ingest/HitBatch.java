package dev.usagetracker.ingest;

import com.fasterxml.jackson.annotation.JsonInclude;
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

    /**
     * A hit in transit and in its raw item: epoch millis, address, endpoint, and when known the method,
     * status and duration in ms (omitted when unknown, so a hit without them costs no byte more).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PackedHit(long t, String ip, String ep, String m, Integer s, Double d) {
        public PackedHit(long t, String ip, String ep) {
            this(t, ip, ep, null, null, null);
        }

        public static PackedHit of(Hit hit) {
            return new PackedHit(hit.timestamp().toEpochMilli(), hit.ip(), hit.endpoint(), hit.method(), hit.status(),
                    hit.durationMs());
        }

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
