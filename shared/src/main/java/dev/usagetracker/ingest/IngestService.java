package dev.usagetracker.ingest;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.DependencyFailure;
import dev.usagetracker.http.Json;
import dev.usagetracker.observability.Metrics;
import dev.usagetracker.store.UsageKeys;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts hits: a request is acknowledged only once its hits are durable, in SQS or, when SQS is
 * down, written straight to the ledger. If neither takes them the caller gets 503 and may retry:
 * nothing acknowledged is ever lost. A write that timed out may still have landed, so a retry is
 * exact only with an Idempotency-Key (same batch id, same raw-hit items, deduplicated by the ledger).
 */
public final class IngestService {
    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);
    /** SQS takes 256 KiB per message; leave room for the envelope and attributes. */
    static final int MAX_PART_BYTES = 200 * 1024;
    static final int RETRY_AFTER_SECONDS = 5;
    /** A timed-out write may still land, so a 503 promises only that nothing was acknowledged. */
    static final String NOT_ACKNOWLEDGED = "Hits cannot be stored right now and were not acknowledged. Retry the "
            + "request after the Retry-After delay, with the same Idempotency-Key so that nothing is counted twice.";

    private final HitQueue queue;
    private final HitLedger ledger;
    private final IdempotencyStore idempotency;
    private final Clock clock;

    public IngestService(HitQueue queue, HitLedger ledger, Clock clock) {
        this(queue, ledger, IdempotencyStore.NONE, clock);
    }

    public IngestService(HitQueue queue, HitLedger ledger, IdempotencyStore idempotency, Clock clock) {
        this.queue = queue;
        this.ledger = ledger;
        this.idempotency = idempotency;
        this.clock = clock;
    }

    public record Accepted(int accepted) {}

    public Accepted accept(Principal principal, List<Hit> hits) {
        return accept(principal, hits, Optional.empty());
    }

    /**
     * With an Idempotency-Key the request's hits always travel under the batch id and receive time of
     * the key's first use, so any number of retries (or concurrent duplicates) write the same raw-hit
     * items and the ledger's conditional writes count them once. The key's record needs DynamoDB:
     * while it is down, keyed requests get 503 (requests without a key still go to SQS).
     */
    public Accepted accept(Principal principal, List<Hit> hits, Optional<IdempotencyKey> key) {
        return accept(principal, key, clock.instant().truncatedTo(ChronoUnit.MILLIS), hits, receivedAt -> hits);
    }

    /**
     * A request that passed its gates (rate limits, quota) after {@link #admit}: claims its key, if it
     * has one, and delivers. Should another attempt with the key have claimed it meanwhile, the hits are
     * judged again as of that claim's receive time, so every attempt packs the same parts.
     */
    public Accepted accept(Admitted request) {
        return accept(request.request().principal(), request.key(), request.receivedAt(), request.hits(),
                receivedAt -> request.request().hits(receivedAt));
    }

    /**
     * A fresh request (not a {@link #replay}), validated as of now: the hits to charge to the gates and,
     * with an Idempotency-Key, the receive time the claim will propose.
     */
    public Admitted admit(IngestRequest request, Optional<IdempotencyKey> key) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return new Admitted(request, key, now, request.hits(now));
    }

    /** {@link #admit}'s answer: the hits as of {@code receivedAt}. */
    public record Admitted(IngestRequest request, Optional<IdempotencyKey> key, Instant receivedAt, List<Hit> hits) {
        /** The hits per calendar month (UTC) of their timestamps: where they count, so where quotas apply. */
        public java.util.Map<java.time.YearMonth, Long> hitsByMonth() {
            return hits.stream().collect(java.util.stream.Collectors.groupingBy(
                    h -> java.time.YearMonth.from(h.timestamp().atOffset(java.time.ZoneOffset.UTC)),
                    java.util.TreeMap::new, java.util.stream.Collectors.counting()));
        }

        /** Of those, the hits whose status is 5xx: a plan whose quota counts non_5xx does not charge them. */
        public java.util.Map<java.time.YearMonth, Long> serverErrorsByMonth() {
            return hits.stream().filter(h -> HitOutcome.statusClass(h.status()) == HitOutcome.SERVER_ERROR)
                    .collect(java.util.stream.Collectors.groupingBy(
                            h -> java.time.YearMonth.from(h.timestamp().atOffset(java.time.ZoneOffset.UTC)),
                            java.util.TreeMap::new, java.util.stream.Collectors.counting()));
        }
    }

    private Accepted accept(Principal principal, Optional<IdempotencyKey> key, Instant now, List<Hit> hits,
                            java.util.function.Function<Instant, List<Hit>> hitsAsOf) {
        if (!principal.has(Principal.SCOPE_LOGS_WRITE)) {
            throw ApiException.forbidden("This credential may not report hits.");
        }
        if (key.isEmpty()) {
            return deliver(pack(principal.clientId(), hits, now, Ids.batchId()), hits.size());
        }
        IdempotencyStore.Entry proposed = new IdempotencyStore.Entry(key.get().requestHash(),
                Ids.batchIdFor(principal.clientId(), key.get().value()), now, OptionalInt.empty());
        IdempotencyStore.Entry entry;
        try {
            entry = idempotency.claim(principal.clientId(), key.get().value(), proposed, now);
        } catch (RuntimeException storeFailure) {
            throw storeUnavailable(storeFailure);
        }
        if (!entry.requestHash().equals(key.get().requestHash())) {
            throw IdempotencyKey.reusedWithAnotherBody();
        }
        if (entry.accepted().isPresent()) {
            return new Accepted(entry.accepted().getAsInt()); // a replay: the same answer, no new hits
        }
        List<Hit> asClaimed = entry.receivedAt().equals(now) ? hits : hitsAsOf.apply(entry.receivedAt());
        return deliverClaimed(principal, key.get(), entry, asClaimed);
    }

    /**
     * The answer to a keyed request whose key is already claimed, decided before any rate limit, quota
     * or time-dependent validation, since the claim means an earlier attempt passed them all:
     * <ul>
     * <li>acknowledged: the same answer, nothing sent;</li>
     * <li>claimed but not marked acknowledged — that attempt may still be running, may have landed and
     * lost its answer (the function died after the SQS send, or marking the key failed), or may have
     * failed: its parts are sent again exactly as that attempt packed them (its batch id and receive
     * time, the hits judged as of that time), and the ledger counts whatever already landed once;</li>
     * <li>claimed with another body: 422.</li>
     * </ul>
     * Empty for a request without a key, a key not claimed yet, or while the store cannot say (then
     * {@link #accept(Admitted)} answers 503 for a keyed request).
     */
    public Optional<Accepted> replay(IngestRequest request, Optional<IdempotencyKey> key) {
        Principal principal = request.principal();
        if (key.isEmpty() || !principal.has(Principal.SCOPE_LOGS_WRITE)) return Optional.empty();
        Optional<IdempotencyStore.Entry> found;
        try {
            found = idempotency.find(principal.clientId(), key.get().value(), clock.instant());
        } catch (RuntimeException storeFailure) {
            if (DependencyFailure.of(storeFailure).isEmpty()) throw storeFailure;
            return Optional.empty();
        }
        if (found.isEmpty()) return Optional.empty();
        IdempotencyStore.Entry entry = found.get();
        if (!entry.requestHash().equals(key.get().requestHash())) throw IdempotencyKey.reusedWithAnotherBody();
        if (entry.accepted().isPresent()) return Optional.of(new Accepted(entry.accepted().getAsInt()));
        return Optional.of(deliverClaimed(principal, key.get(), entry, request.hits(entry.receivedAt())));
    }

    /** Sends a claimed request's parts and marks the key acknowledged. */
    private Accepted deliverClaimed(Principal principal, IdempotencyKey key, IdempotencyStore.Entry entry, List<Hit> hits) {
        Accepted accepted = deliver(pack(principal.clientId(), hits, entry.receivedAt(), entry.batchId()), hits.size());
        try {
            idempotency.complete(principal.clientId(), key.value(), entry, accepted.accepted());
        } catch (RuntimeException e) {
            // The hits are durable, so the answer stands. A key left unmarked costs its retries one more
            // send of the same parts each (replay() sends them again without any gate), which the ledger
            // drops as duplicates: never a second count, never a refusal of counted hits.
            LOG.warn("could not mark an idempotency key complete ({})", e.getClass().getSimpleName());
        }
        return accepted;
    }

    private static ApiException storeUnavailable(RuntimeException storeFailure) {
        if (DependencyFailure.of(storeFailure).isEmpty()) throw storeFailure;
        LOG.warn("idempotency store unavailable ({}); refusing a keyed request", storeFailure.getClass().getSimpleName());
        return ApiException.unavailable("Requests with an Idempotency-Key cannot be checked right now; nothing was "
                + "recorded. Retry later with the same key.", RETRY_AFTER_SECONDS);
    }

    private Accepted deliver(List<HitBatch> parts, int hitCount) {
        Metrics metrics = Metrics.begin().property("batch_id", parts.getFirst().batchId());
        try {
            queue.send(parts);
            metrics.count(Metrics.HITS_ACCEPTED, hitCount).count(Metrics.INGEST_FALLBACKS, 0).flush();
            return new Accepted(hitCount);
        } catch (RuntimeException queueFailure) {
            LOG.warn("hit queue unavailable ({}); writing {} part(s) straight to the ledger",
                    queueFailure.getClass().getSimpleName(), parts.size());
        }
        HitLedger.Outcome outcome;
        try {
            outcome = ledger.record(parts);
        } catch (RuntimeException ledgerFailure) {
            LOG.error("ledger unavailable too ({}); refusing the request", ledgerFailure.getClass().getSimpleName());
            metrics.count(Metrics.INGEST_REJECTED, hitCount).flush();
            throw ApiException.unavailable(NOT_ACKNOWLEDGED, RETRY_AFTER_SECONDS);
        }
        if (!outcome.failed().isEmpty()) {
            metrics.count(Metrics.INGEST_REJECTED, hitCount).flush();
            throw ApiException.unavailable(NOT_ACKNOWLEDGED, RETRY_AFTER_SECONDS);
        }
        metrics.count(Metrics.HITS_ACCEPTED, hitCount).count(Metrics.INGEST_FALLBACKS, 1).flush();
        return new Accepted(hitCount);
    }

    static List<HitBatch> pack(String clientId, List<Hit> hits, Instant receivedAt) {
        return pack(clientId, hits, receivedAt, Ids.batchId());
    }

    static List<HitBatch> pack(String clientId, List<Hit> hits, Instant receivedAt, String batchId) {
        List<HitBatch> parts = new ArrayList<>();
        List<HitBatch.PackedHit> current = new ArrayList<>();
        java.util.Set<String> aggregates = new java.util.HashSet<>();
        int bytes = 0;
        int offset = 0;
        for (Hit hit : hits) {
            HitBatch.PackedHit packed = HitBatch.PackedHit.of(hit);
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
