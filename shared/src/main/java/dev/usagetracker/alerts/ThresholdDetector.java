package dev.usagetracker.alerts;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.usagetracker.ingest.HitBatch;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the quota thresholds a consumer batch crossed, after its transactions committed (docs/alerts.md).
 * For each (client, month) the batch committed hits to, the month's usage <em>after</em> the commit is
 * read from DynamoDB's daily aggregates (so Redis plays no part and a crossing is found while it is down);
 * the usage before is that minus what this batch committed. Every threshold at or below the usage after
 * that is not known to be claimed is claimed with a conditional write: the thresholds this batch crossed
 * ({@code before < t ≤ after}), and any earlier one whose claim was lost (a consumer that died between
 * commit and claim; the next commit of that client catches it up). Only the winner of the claim raises
 * the event, so it fires exactly once however batches are replayed or containers race, and never before
 * the hits that crossed it are durable. Once every threshold of a month is claimed, this container stops
 * reading that client's usage for the month — that registration of the client's, not a later one of
 * the same id.
 */
public final class ThresholdDetector {
    private static final Logger LOG = LoggerFactory.getLogger(ThresholdDetector.class);

    private final AlertPolicy policy;
    private final MonthlyUsage usage;
    private final ThresholdClaims claims;
    private final AlertSink sink;
    private final Clock clock;
    /**
     * (client|generation|month) → thresholds this container knows are claimed. The generation keeps an
     * id erased and registered again (whose claims the erasure deleted) from inheriting what this
     * container learnt about the erased client: it would get no alerts for the rest of the month.
     */
    private final Cache<String, Set<Integer>> claimed = Caffeine.newBuilder().maximumSize(100_000).build();

    public ThresholdDetector(AlertPolicy policy, MonthlyUsage usage, ThresholdClaims claims, AlertSink sink, Clock clock) {
        this.policy = policy;
        this.usage = usage;
        this.claims = claims;
        this.sink = sink;
        this.clock = clock;
    }

    /** What a (client, month) crossed: its usage before and after the batch, and the thresholds claimed now. */
    public record Crossing(String clientId, YearMonth month, long before, long after, List<Integer> raised) {}

    /** {@code committed}: exactly the parts whose transactions committed in this batch. */
    public List<Crossing> committed(List<HitBatch> committed) {
        Map<String, Map<YearMonth, MonthlyUsage.Count>> added = new LinkedHashMap<>();
        for (HitBatch part : committed) {
            for (HitBatch.PackedHit hit : part.hits()) {
                added.computeIfAbsent(part.clientId(), c -> new LinkedHashMap<>())
                        .merge(YearMonth.from(hit.timestamp().atOffset(ZoneOffset.UTC)), MonthlyUsage.Count.of(hit.s()),
                                MonthlyUsage.Count::plus);
            }
        }
        List<Crossing> crossings = new java.util.ArrayList<>();
        for (var client : added.entrySet()) {
            AlertPolicy.Quota quota;
            try {
                quota = policy.quotaOf(client.getKey());
            } catch (RuntimeException e) {
                LOG.warn("no alert policy for a client ({}); its thresholds are checked on its next batch",
                        e.getClass().getSimpleName());
                continue;
            }
            if (!quota.alerts()) continue;
            for (var month : client.getValue().entrySet()) {
                try {
                    Crossing c = check(client.getKey(), month.getKey(), month.getValue(), quota);
                    if (c != null) crossings.add(c);
                } catch (RuntimeException e) {
                    // The hits stand; the next commit of this client re-checks and claims what is missing.
                    LOG.warn("threshold check failed for a client ({}); retried on its next batch", e.getClass().getSimpleName());
                }
            }
        }
        return crossings;
    }

    private Crossing check(String clientId, YearMonth month, MonthlyUsage.Count addedNow, AlertPolicy.Quota quota) {
        String key = clientId + "|" + quota.generation() + "|" + month;
        Set<Integer> known = claimed.get(key, k -> ConcurrentHashMap.newKeySet());
        if (known.containsAll(quota.thresholds())) return null;
        long after = usage.count(clientId, month).counted(quota.excludeServerErrors());
        long before = Math.max(0, after - addedNow.counted(quota.excludeServerErrors()));
        List<Integer> raised = new java.util.ArrayList<>();
        Instant now = clock.instant();
        for (int percent : quota.thresholds()) {
            if (known.contains(percent) || after < quota.usageFor(percent)) continue;
            if (claims.claim(clientId, month, percent, after, quota.monthlyQuota(), now)) {
                raised.add(percent);
                String eventId = AlertEvents.eventId(clientId, month, percent);
                sink.raised(eventId, new ThresholdAlert(clientId, month.toString(), percent, quota.monthlyQuota(), after), now);
                LOG.atInfo().addKeyValue("client_id", clientId).addKeyValue("period", month.toString())
                        .addKeyValue("threshold", percent).addKeyValue("used", after).addKeyValue("event_id", eventId)
                        .addKeyValue("crossed_in_batch", before < quota.usageFor(percent))
                        .log("usage threshold reached");
            }
            known.add(percent);
        }
        return new Crossing(clientId, month, before, after, raised);
    }

    /** Forgets what this container knows is claimed (tests, and a plan change that adds thresholds). */
    public void forget() {
        claimed.invalidateAll();
    }
}
