package dev.usagetracker.ingest;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Json;
import dev.usagetracker.observability.Metrics;
import dev.usagetracker.store.UsageKeys;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts hits: a request is acknowledged only once its hits are durable, in SQS or, when SQS is
 * down, written straight to the ledger. If neither takes them the caller gets 503 and may retry:
 * nothing acknowledged is ever lost, and a retried part that did land is deduplicated downstream.
 */
public final class IngestService {
    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);
    /** SQS takes 256 KiB per message; leave room for the envelope and attributes. */
    static final int MAX_PART_BYTES = 200 * 1024;
    static final int RETRY_AFTER_SECONDS = 5;

    private final HitQueue queue;
    private final HitLedger ledger;
    private final Clock clock;

    public IngestService(HitQueue queue, HitLedger ledger, Clock clock) {
        this.queue = queue;
        this.ledger = ledger;
        this.clock = clock;
    }

    public record Accepted(int accepted) {}

    public Accepted accept(Principal principal, List<Hit> hits) {
        if (!principal.has(Principal.SCOPE_LOGS_WRITE)) {
            throw ApiException.forbidden("This credential may not report hits.");
        }
        List<HitBatch> parts = pack(principal.clientId(), hits, clock.instant().truncatedTo(ChronoUnit.MILLIS));
        Metrics metrics = Metrics.begin().property("batch_id", parts.getFirst().batchId());
        try {
            queue.send(parts);
            metrics.count(Metrics.HITS_ACCEPTED, hits.size()).count(Metrics.INGEST_FALLBACKS, 0).flush();
            return new Accepted(hits.size());
        } catch (RuntimeException queueFailure) {
            LOG.warn("hit queue unavailable ({}); writing {} part(s) straight to the ledger",
                    queueFailure.getClass().getSimpleName(), parts.size());
        }
        HitLedger.Outcome outcome;
        try {
            outcome = ledger.record(parts);
        } catch (RuntimeException ledgerFailure) {
            LOG.error("ledger unavailable too ({}); refusing the request", ledgerFailure.getClass().getSimpleName());
            metrics.count(Metrics.INGEST_REJECTED, hits.size()).flush();
            throw ApiException.unavailable("Hits cannot be stored right now; nothing was recorded. Retry later.",
                    RETRY_AFTER_SECONDS);
        }
        if (!outcome.failed().isEmpty()) {
            metrics.count(Metrics.INGEST_REJECTED, hits.size()).flush();
            throw ApiException.unavailable("Hits cannot be stored right now; retry the whole request later.",
                    RETRY_AFTER_SECONDS);
        }
        metrics.count(Metrics.HITS_ACCEPTED, hits.size()).count(Metrics.INGEST_FALLBACKS, 1).flush();
        return new Accepted(hits.size());
    }

    static List<HitBatch> pack(String clientId, List<Hit> hits, Instant receivedAt) {
        String batchId = Ids.batchId();
        List<HitBatch> parts = new ArrayList<>();
        List<HitBatch.PackedHit> current = new ArrayList<>();
        java.util.Set<String> aggregates = new java.util.HashSet<>();
        int bytes = 0;
        int offset = 0;
        for (Hit hit : hits) {
            HitBatch.PackedHit packed = new HitBatch.PackedHit(hit.timestamp().toEpochMilli(), hit.ip(), hit.endpoint());
            int size = Json.write(packed).length + 1;
            String day = "d" + UsageKeys.day(hit.timestamp());
            String hour = "h" + UsageKeys.hour(hit.timestamp());
            int newAggregates = (aggregates.contains(day) ? 0 : 1) + (aggregates.contains(hour) ? 0 : 1);
            if (!current.isEmpty() && (bytes + size > MAX_PART_BYTES
                    || aggregates.size() + newAggregates > HitBatch.MAX_AGGREGATES_PER_PART)) {
                parts.add(new HitBatch(1, batchId, parts.size(), offset, clientId, receivedAt, List.copyOf(current)));
                offset += current.size();
                current.clear();
                aggregates.clear();
                bytes = 0;
            }
            current.add(packed);
            aggregates.add(day);
            aggregates.add(hour);
            bytes += size;
        }
        parts.add(new HitBatch(1, batchId, parts.size(), offset, clientId, receivedAt, List.copyOf(current)));
        return parts;
    }
}
