package dev.usagetracker.wiring;

import dev.usagetracker.alerts.ThresholdDetector;
import dev.usagetracker.config.LambdaEnvironment;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.erasure.ErasureSettings;
import dev.usagetracker.ingest.CommitObserver;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitConsumer;
import dev.usagetracker.ingest.HitLedger;
import dev.usagetracker.ingest.HitValidator;
import dev.usagetracker.ingest.IngestRequest;
import dev.usagetracker.ingest.IngestService;
import dev.usagetracker.ingest.ObservedLedger;
import dev.usagetracker.plans.MonthlyUsage;
import dev.usagetracker.plans.PlanAlertPolicy;
import dev.usagetracker.queue.SqsHitQueue;
import dev.usagetracker.queue.SqsRetryScheduler;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.store.DynamoHitLedger;
import dev.usagetracker.store.DynamoIdempotencyStore;
import dev.usagetracker.webhooks.WebhookAlertSink;
import java.time.Duration;
import java.util.List;

/**
 * The path of a hit: POST /api/logs onto the queue (or, with SQS down, straight into the ledger), the
 * consumer's transactions into the Hits and Usage tables, and what hears of each commit — the Redis
 * counters, the endpoint mirror and the quota alerts.
 */
public final class IngestModule {
    private final Clients clients;
    private final IdentityModule identity;
    private final Lazy<DynamoHitLedger> ledger;
    private final Lazy<IngestService> service;
    private final Lazy<HitConsumer> consumer;
    private final Lazy<ThresholdDetector> thresholds;

    public IngestModule(Clients clients, IdentityModule identity, UsageModule usage, AnalyticsModule analytics,
                        PlansModule plans, WebhooksModule webhooks) {
        this.clients = clients;
        this.identity = identity;
        var config = clients.config();
        var clock = clients.clock();
        // The client-row guard without a per-transaction ConditionCheck when the erasure delay bounds it (docs/reliability.md);
        // HIT_LEDGER picks the recount path for light groups (default) or transactions only (docs/performance.md).
        ledger = new Lazy<>(() -> new DynamoHitLedger(clients.dynamo(), config.hitsTable(), config.usageTable(),
                clients.usageKeys(), clients.retention(), config.clientsTable(), DynamoHitLedger.guardWindow(
                        Duration.ofSeconds(ErasureSettings.from(LambdaEnvironment.get()).delaySeconds()),
                        config.sdk("dynamodb").callTimeout()), clock, DynamoHitLedger.Mode.from(LambdaEnvironment.get())));
        CommitObserver observer = observer(usage, analytics);
        service = new Lazy<>(() -> new IngestService(new SqsHitQueue(clients.sqs(), config.hitsQueueUrl()),
                // The SQS-down fallback keeps transactions: a caller waits on it (docs/performance.md).
                new ObservedLedger(ledger.get().withMode(DynamoHitLedger.Mode.TRANSACTION), observer),
                new DynamoIdempotencyStore(clients.dynamo(), config.clientsTable()), clock));
        thresholds = new Lazy<>(() -> new ThresholdDetector(
                new PlanAlertPolicy(identity.clientStore(), plans.catalog(), config.plans().cacheTtl()),
                plans.monthlyTruth(), plans.thresholdClaims(),
                new WebhookAlertSink(webhooks.queue(), clients.redis().map(UsageEvents::new)), clock));
        consumer = new Lazy<>(() -> new HitConsumer(ledger.get(), clock, new SqsRetryScheduler(clients.sqs(),
                config.hitsQueueUrl(), config.retryBackoff().base(), config.retryBackoff().max()), observer,
                // a transaction at its longest (the SDK's call timeout) and then the mirrors and the report
                config.sdk("dynamodb").callTimeout().plusSeconds(5)));
    }

    /** The request's credential and its hits, validated (POST /api/logs). */
    public IngestRequest.Parser requestParser() {
        return new IngestRequest.Parser(identity.authenticator(), new HitValidator(clients.clock(), clients.retention()));
    }

    public IngestService service() { return service.get(); }
    public HitLedger ledger() { return ledger.get(); }
    /** The hits queue's consumer: batches of parts into transactions, retried parts back on the queue. */
    public HitConsumer consumer() { return consumer.get(); }
    /** Quota threshold detection after each consumer commit (docs/alerts.md). */
    public ThresholdDetector thresholds() { return thresholds.get(); }

    /**
     * What the mirrors and the alert detector hear of around each write of hits: the consumer's batches and
     * the ingest's SQS-down fallback both write through an {@link ObservedLedger} with it.
     */
    private CommitObserver observer(UsageModule usage, AnalyticsModule analytics) {
        return parts -> {
            // Before the transactions: the monthly counter must know what is in flight (MonthlyUsage).
            var inFlight = usage.counters().map(c -> c.begin(parts)).orElse(MonthlyUsage.InFlight.NONE);
            return new CommitObserver.AfterCommit() {
                @Override
                public void committed(List<HitBatch> committed) {
                    try {
                        // endpoints first: the counters then bump the cache versions of what changed
                        analytics.endpointMirror().ifPresent(m -> m.committed(committed));
                        usage.counters().ifPresent(c -> c.committed(committed, inFlight));
                    } finally {
                        // After the commit, and whether or not Redis took the mirror: alerts read DynamoDB.
                        thresholds.get().committed(committed);
                    }
                }

                @Override
                public void replayed(List<HitBatch> replayed) {
                    usage.counters().ifPresent(c -> c.replayed(replayed));
                }
            };
        };
    }
}
