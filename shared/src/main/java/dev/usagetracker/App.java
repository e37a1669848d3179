package dev.usagetracker;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.auth.RedisCredentialChanges;
import dev.usagetracker.cache.CachedUsage;
import dev.usagetracker.cache.ResponseCache;
import dev.usagetracker.cache.UsageCounters;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.usage.UsageStore;
import dev.usagetracker.auth.TokenService;
import dev.usagetracker.clients.AdminBootstrap;
import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.clients.RegistrationService;
import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import dev.usagetracker.config.Entropy;
import dev.usagetracker.config.LambdaEnvironment;
import dev.usagetracker.config.ContainerLifecycle;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.config.Priming;
import dev.usagetracker.crypto.EnvelopeCipher;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.crypto.KmsKeyHasher;
import dev.usagetracker.crypto.KmsSigningKeys;
import dev.usagetracker.crypto.SigningKeys;
import dev.usagetracker.ingest.HitConsumer;
import dev.usagetracker.ingest.HitLedger;
import dev.usagetracker.ingest.HitValidator;
import dev.usagetracker.ingest.IngestRequest;
import dev.usagetracker.ingest.IngestService;
import dev.usagetracker.queue.SqsHitQueue;
import dev.usagetracker.ratelimit.FallbackRateLimiter;
import dev.usagetracker.ratelimit.LocalRateLimiter;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.ratelimit.RateLimiter;
import dev.usagetracker.ratelimit.RedisRateLimiter;
import dev.usagetracker.realtime.ApiGatewayConnections;
import dev.usagetracker.realtime.ConnectionStore;
import dev.usagetracker.realtime.LiveConnections;
import dev.usagetracker.realtime.StreamConnections;
import dev.usagetracker.realtime.StreamTickets;
import dev.usagetracker.realtime.TokenExpiry;
import dev.usagetracker.realtime.UsageFanout;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.queue.SqsRetryScheduler;
import dev.usagetracker.store.DynamoClientStore;
import dev.usagetracker.store.DynamoConnectionStore;
import dev.usagetracker.store.DynamoHitLedger;
import dev.usagetracker.store.DynamoIdempotencyStore;
import dev.usagetracker.store.DynamoUsageStore;
import dev.usagetracker.store.UsageKeys;
import dev.usagetracker.usage.UsageService;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.GenerateMacRequest;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Composition root: one per container, built in a handler's static initialiser (SnapStart-ready). Every
 * component is lazy, so a function pays only for the clients its route uses, and each is built once.
 */
public final class App {
    private final Config config;
    private final Clock clock;

    private final Lazy<DynamoDbClient> dynamo;
    private final Lazy<SqsClient> sqs;
    private final Lazy<KmsClient> kms;
    private final Lazy<KeyHasher> hasher;
    private final Lazy<FieldCipher> cipher;
    private final Lazy<SigningKeys> signingKeys;
    private final Lazy<ClientStore> clientStore;
    private final Lazy<TokenService> tokens;
    private final Lazy<Authenticator> authenticator;
    private final Lazy<RegistrationService> registration;
    private final Lazy<HitLedger> ledger;
    private final Lazy<IngestService> ingest;
    private final Lazy<HitConsumer> consumer;
    private final Lazy<UsageService> usage;
    private final Priming priming;
    private final Lazy<Optional<Redis>> redis;
    private final Lazy<RateLimitGuard> rateLimits;
    private final Lazy<ConnectionStore> connectionStore;
    private final Lazy<ResponseCache> responseCache;
    private final Lazy<Optional<UsageCounters>> counters;
    private final Lazy<CachedUsage> cachedUsage;
    private final Lazy<dev.usagetracker.webhooks.WebhookSettings> webhookSettings;
    private final Lazy<dev.usagetracker.alerts.ThresholdDetector> thresholds;
    private final Lazy<Optional<dev.usagetracker.analytics.EndpointMirror>> endpointMirror;
    private final Lazy<CachedAnalytics> cachedAnalytics;
    private final Lazy<CredentialChanges> credentialChanges;

    private final Lazy<dev.usagetracker.plans.CachedPlanCatalog> planCatalog = new Lazy<>(new Supplier<>() {
        @Override
        public dev.usagetracker.plans.CachedPlanCatalog get() {
            return new dev.usagetracker.plans.CachedPlanCatalog(planStore(), config().plans(), clock());
        }
    });

    public App(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.priming = new Priming(Priming.mode(LambdaEnvironment.get()));
        priming.onRestore(Entropy::reseed);
        UsageKeys keys = new UsageKeys(config.usageShards());
        Duration retention = Duration.ofDays(config.retentionDays());
        // Anonymous classes, not lambdas: linking a lambda loads its return type, and a function jar
        // holds only the SDK clients it calls (the SQS client is not in the register jar, for one).
        // Each client is closed with its container (ContainerLifecycle), as its Redis connection is.
        dynamo = new Lazy<>(new Supplier<>() {
            @Override
            public DynamoDbClient get() {
                return ContainerLifecycle.register(AwsClients.dynamo(config));
            }
        });
        sqs = new Lazy<>(new Supplier<>() {
            @Override
            public SqsClient get() {
                return ContainerLifecycle.register(AwsClients.sqs(config));
            }
        });
        kms = new Lazy<>(new Supplier<>() {
            @Override
            public KmsClient get() {
                return ContainerLifecycle.register(AwsClients.kms(config));
            }
        });
        // Empty REDIS_URL: no Redis at all; the rate limiter then runs in its RATE_LIMIT_MODE from the start.
        redis = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<Redis> get() {
                return config.redisUrl().isBlank() ? Optional.empty()
                        : Optional.of(ContainerLifecycle.register(new Redis(config.redisUrl(), config.redis())));
            }
        });
        hasher = new Lazy<>(() -> new KmsKeyHasher(kms.get(), config.macKeyId()));
        cipher = new Lazy<>(() -> new EnvelopeCipher(kms.get(), config.dataKeyId(), clock));
        signingKeys = new Lazy<>(() -> new KmsSigningKeys(kms.get(), config.signingKeyId()));
        clientStore = new Lazy<>(() -> new DynamoClientStore(dynamo.get(), config.clientsTable(), clock));
        tokens = new Lazy<>(() -> new TokenService(signingKeys.get(), config.jwtIssuer(), config.jwtAudience(),
                config.tokenTtl(), clock));
        // The revocation signal (docs/security.md): one per container, read on every authentication.
        credentialChanges = new Lazy<>(new Supplier<>() {
            @Override
            public CredentialChanges get() {
                return new RedisCredentialChanges(redis.get(), id -> clientStore.get().find(id)
                        .map(c -> c.credentials().version()).orElse(-1L));
            }
        });
        authenticator = new Lazy<>(() -> new Authenticator(clientStore.get(), hasher.get(), tokens.get(),
                config.adminAllowedCidrs(), clock, config.authCacheTtl(), credentialChanges.get()));
        registration = new Lazy<>(() -> new RegistrationService(clientStore.get(), hasher.get(), cipher.get(), clock));
        // The client-row guard without a per-transaction ConditionCheck when the erasure delay bounds it (docs/reliability.md);
        // HIT_LEDGER picks the recount path for light groups (default) or transactions only (docs/performance.md).
        ledger = new Lazy<>(() -> new DynamoHitLedger(dynamo.get(), config.hitsTable(), config.usageTable(), keys, retention,
                config.clientsTable(), DynamoHitLedger.guardWindow(Duration.ofSeconds(
                        dev.usagetracker.erasure.ErasureSettings.from(LambdaEnvironment.get()).delaySeconds()),
                        config.sdk("dynamodb").callTimeout()), clock, DynamoHitLedger.Mode.from(LambdaEnvironment.get())));
        ingest = new Lazy<>(() -> new IngestService(new SqsHitQueue(sqs.get(), config.hitsQueueUrl()),
                new dev.usagetracker.ingest.ObservedLedger(((DynamoHitLedger) ledger.get()).withMode(DynamoHitLedger.Mode.TRANSACTION),
                        commitObserver()),
                new DynamoIdempotencyStore(dynamo.get(), config.clientsTable()), clock));
        usage = new Lazy<>(() -> new UsageService(new DynamoUsageStore(dynamo.get(), config.usageTable(), keys),
                clientStore.get(), clock));
        responseCache = new Lazy<>(new Supplier<>() {
            @Override
            public ResponseCache get() {
                return new ResponseCache(redis.get(), clock);
            }
        });
        counters = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<UsageCounters> get() {
                return redis.get().map(r -> new UsageCounters(r, responseCache.get(), new UsageEvents(r), clientStore.get(),
                        usage.get(), clock, retention));
            }
        });
        webhookSettings = new Lazy<>(() -> dev.usagetracker.webhooks.WebhookSettings.from(LambdaEnvironment.get()));
        thresholds = new Lazy<>(() -> new dev.usagetracker.alerts.ThresholdDetector(
                new dev.usagetracker.plans.PlanAlertPolicy(clientStore.get(), planCatalog.get(), config.plans().cacheTtl()),
                new dev.usagetracker.store.DynamoMonthlyUsage(dynamo.get(), config.usageTable(), clock),
                new dev.usagetracker.store.DynamoThresholdClaims(dynamo.get(), config.usageTable()),
                new dev.usagetracker.webhooks.WebhookAlertSink(webhookQueue(), redis.get().map(UsageEvents::new)), clock));
        consumer = new Lazy<>(() -> new HitConsumer(ledger.get(), clock, new SqsRetryScheduler(sqs.get(), config.hitsQueueUrl(),
                config.retryBackoff().base(), config.retryBackoff().max()), commitObserver(),
                // a transaction at its longest (the SDK's call timeout) and then the mirrors and the report
                config.sdk("dynamodb").callTimeout().plusSeconds(5)));
        cachedUsage = new Lazy<>(new Supplier<>() {
            @Override
            public CachedUsage get() {
                return new CachedUsage(usage.get(), responseCache.get(), counters.get(), clock);
            }
        });
        rateLimits = new Lazy<>(new Supplier<>() {
            @Override
            public RateLimitGuard get() {
                var settings = config.rateLimits();
                Optional<RateLimiter> shared = redis.get().map(RedisRateLimiter::new);
                return new RateLimitGuard(new FallbackRateLimiter(shared,
                        new LocalRateLimiter(clock, settings.expectedContainers(), settings.longestWindow()),
                        settings.mode(), config.redis().breakerOpen()), settings, planCatalog.get(),
                        Optional.of(new dev.usagetracker.plans.QuotaGate(monthlyUsage(), clock)));
            }
        });
        connectionStore = new Lazy<>(() -> new DynamoConnectionStore(dynamo.get(), config.stream().connectionsTable()));
        endpointMirror = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<dev.usagetracker.analytics.EndpointMirror> get() {
                return redis.get().map(dev.usagetracker.analytics.EndpointMirror::new);
            }
        });
        cachedAnalytics = new Lazy<>(new Supplier<>() {
            @Override
            public CachedAnalytics get() {
                UsageStore aggregates = usageStore();
                var store = new dev.usagetracker.store.DynamoAnalyticsStore(dynamo.get(), config.usageTable(),
                        config.hitsTable(), keys);
                var analytics = new dev.usagetracker.analytics.UsageAnalytics(aggregates, store,
                        new dev.usagetracker.analytics.EndpointBreakdown(aggregates, store, endpointMirror.get(), clock),
                        clientStore.get(), usage.get(), clock);
                // The cursor key is KMS's HMAC of a constant: derived once per container, never stored.
                var cursors = new dev.usagetracker.analytics.ExportCursor(new Lazy<>(() ->
                        java.util.HexFormat.of().parseHex(hasher.get().hash("export-cursor", "key-v1")))::get);
                return new CachedAnalytics(analytics, responseCache.get(), cursors, clock);
            }
        });
    }

    public static App fromEnvironment() {
        return new App(Config.fromEnvironment(), Clock.systemUTC());
    }

    public Config config() { return config; }
    public Clock clock() { return clock; }
    public DynamoDbClient dynamo() { return dynamo.get(); }
    public KmsClient kms() { return kms.get(); }
    public SqsClient sqs() { return sqs.get(); }
    public SigningKeys signingKeys() { return signingKeys.get(); }
    public ClientStore clientStore() { return clientStore.get(); }
    public TokenService tokens() { return tokens.get(); }
    public Authenticator authenticator() { return authenticator.get(); }
    public RegistrationService registration() { return registration.get(); }
    public HitLedger ledger() { return ledger.get(); }
    public IngestService ingest() { return ingest.get(); }
    public HitConsumer consumer() { return consumer.get(); }
    public UsageService usage() { return usage.get(); }
    /** The container's Redis connection, if {@code REDIS_URL} is set; for counters, caches and limits. */
    public Optional<Redis> redis() { return redis.get(); }
    public RateLimitGuard rateLimits() { return rateLimits.get(); }
    public ConnectionStore connectionStore() { return connectionStore.get(); }

    /** Single-use tickets for SSE clients that cannot send headers (a browser's EventSource). */
    public StreamTickets streamTickets() {
        return new StreamTickets(redis.get());
    }

    /** The exp of the access token that opens a stream (a stream ends at it). */
    public TokenExpiry tokenExpiry() {
        return new TokenExpiry(tokens.get());
    }

    /**
     * The WebSocket API's $connect and $disconnect, and {@code closeAllFor(clientId)} for credential
     * changes: it also closes the sockets where WEBSOCKET_CALLBACK_URL is set (and the jar has the
     * management API client), else it only deletes the rows.
     */
    public StreamConnections streamConnections() {
        Optional<LiveConnections> sockets = config.stream().callbackUrl().isEmpty() ? Optional.empty()
                : Optional.of(liveConnections());
        return new StreamConnections(authenticator.get(), tokenExpiry(), rateLimits.get(), connectionStore.get(), sockets, clock,
                config.stream().maxStreamsPerClient());
    }

    /** Usage changes to WebSocket connections through {@code @connections} (WEBSOCKET_CALLBACK_URL). */
    public UsageFanout usageFanout() {
        // Every connection is re-checked with the one revocation mechanism before it is pushed to.
        Authenticator auth = authenticator.get();
        return new UsageFanout(connectionStore.get(), liveConnections(), auth::verdict, clock);
    }

    private LiveConnections liveConnections() {
        // An anonymous class, not a lambda: only jars that reach @connections hold the API Gateway management client.
        return new Supplier<LiveConnections>() {
            @Override
            public LiveConnections get() {
                URI callback = config.stream().callbackUrl().orElseThrow(() ->
                        new IllegalStateException("WEBSOCKET_CALLBACK_URL is not set"));
                return new ApiGatewayConnections(ContainerLifecycle.register(
                        AwsClients.connections(config, callback, config.stream().callbackSecret())));
            }
        }.get();
    }
    /** /daily and /top behind the versioned response cache. */
    public CachedUsage cachedUsage() { return cachedUsage.get(); }
    /** The Redis mirror of the aggregates, if Redis is configured. */
    public Optional<UsageCounters> counters() { return counters.get(); }
    public dev.usagetracker.cache.Prefetch prefetch() {
        return new dev.usagetracker.cache.Prefetch(counters.get(), usageStore());
    }

    /** The consumer's after-commit mirror of endpoint templates, if Redis is configured. */
    public Optional<dev.usagetracker.analytics.EndpointMirror> endpointMirror() { return endpointMirror.get(); }
    /** /hourly, /endpoints and /export behind the versioned response cache. */
    public CachedAnalytics cachedAnalytics() { return cachedAnalytics.get(); }

    public UsageStore usageStore() { return new DynamoUsageStore(dynamo.get(), config.usageTable(), new UsageKeys(config.usageShards())); }

    public IngestRequest.Parser ingestRequestParser() {
        return new IngestRequest.Parser(authenticator.get(), new HitValidator(clock, Duration.ofDays(config.retentionDays())));
    }

    public ClientSettingsService clientSettings() {
        return new ClientSettingsService(clientStore.get(), hasher.get(), cipher.get(), clock, credentialChangesClosingConnections());
    }

    /**
     * The revocation signal for the services that change credentials (rotation, allowlist, the admin's
     * PATCH): after the signal, the client's WebSocket connection rows are deleted (rows only: these
     * functions do not reach @connections; a failure is logged, never the change's).
     */
    private CredentialChanges credentialChangesClosingConnections() {
        return new dev.usagetracker.realtime.ConnectionsOnCredentialChange(credentialChanges.get(), clientId ->
                new StreamConnections(null, null, null, connectionStore.get(), Optional.empty(), clock).closeAllFor(clientId));
    }

    /** GET /api/clients/me|{id} and the admin's PATCH; a plan named there must exist in the plan catalog. */
    public dev.usagetracker.clients.ClientAdministration clientAdministration() {
        return new dev.usagetracker.clients.ClientAdministration(clientStore.get(), cipher.get(),
                planCatalog.get()::exists, credentialChangesClosingConnections(), clock);
    }

    /** Announces a credential change of a client to every container (after the row was written). */
    public CredentialChanges credentialChanges() { return credentialChanges.get(); }

    public Priming priming() {
        return priming;
    }

    /**
     * Warm-up calls, each cheap, allowed by the calling function's IAM policy and without side effects:
     * they load a client's request path and open its connection before the first request needs it.
     */
    public enum Warmup {
        /** kms:GenerateMac of a constant: the API-key and email hashing path. */
        KEY_HASH,
        /** kms:GetPublicKey, cached afterwards: JWT verification and JWKS. */
        PUBLIC_KEY,
        /** dynamodb:GetItem of an id no client can have. */
        CLIENT_READ,
        /** dynamodb:BatchGetItem of an id no client can have (functions without GetItem). */
        CLIENT_BATCH_READ,
        /** A transaction holding one ConditionCheck that passes: writes nothing (register's path). */
        CLIENT_WRITE_CHECK,
        /** sqs:GetQueueAttributes of the hits queue: the SendMessage path. */
        QUEUE,
        /** A transaction whose one update is conditional on an item that never exists: cancelled, writes nothing. */
        LEDGER,
        /** The JSON mapper: its first use builds most of Jackson. */
        JSON
    }

    /** A key no client, guard or aggregate can have ('!' is outside every id alphabet). */
    static final String PRIMING_KEY = "priming!";

    /** Runs the warm-ups before the SnapStart snapshot, or now, as PRIMING says. */
    public void prime(Warmup... warmups) {
        if (priming.mode() == Priming.Mode.OFF) return;
        List<Priming.Step> steps = new ArrayList<>();
        for (Warmup w : warmups) steps.add(new Priming.Step(w.name().toLowerCase(java.util.Locale.ROOT), warmup(w)));
        priming.prime(steps);
    }

    // Anonymous classes, for the same reason as the client suppliers above: a function jar without the SQS
    // or DynamoDB module must be able to link App.
    private Runnable warmup(Warmup w) {
        return switch (w) {
            case KEY_HASH -> new Runnable() {
                @Override
                public void run() {
                    kms.get().generateMac(GenerateMacRequest.builder().keyId(config.macKeyId())
                            .macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)
                            .message(SdkBytes.fromUtf8String(PRIMING_KEY)).build());
                }
            };
            case PUBLIC_KEY -> new Runnable() {
                @Override
                public void run() {
                    signingKeys.get().publicKeys();
                }
            };
            case CLIENT_READ -> new Runnable() {
                @Override
                public void run() {
                    dynamo.get().getItem(GetItemRequest.builder().tableName(config.clientsTable())
                            .key(Map.of("client_id", AttributeValue.fromS(PRIMING_KEY))).consistentRead(true).build());
                }
            };
            case CLIENT_BATCH_READ -> new Runnable() {
                @Override
                public void run() {
                    dynamo.get().batchGetItem(BatchGetItemRequest.builder().requestItems(Map.of(config.clientsTable(),
                            KeysAndAttributes.builder().keys(Map.of("client_id", AttributeValue.fromS(PRIMING_KEY))).build())).build());
                }
            };
            case CLIENT_WRITE_CHECK -> new Runnable() {
                @Override
                public void run() {
                    dynamo.get().transactWriteItems(TransactWriteItemsRequest.builder().transactItems(TransactWriteItem.builder()
                            .conditionCheck(ConditionCheck.builder().tableName(config.clientsTable())
                                    .key(Map.of("client_id", AttributeValue.fromS(PRIMING_KEY)))
                                    .conditionExpression("attribute_not_exists(client_id)").build()).build()).build());
                }
            };
            case QUEUE -> new Runnable() {
                @Override
                public void run() {
                    sqs.get().getQueueAttributes(GetQueueAttributesRequest.builder().queueUrl(config.hitsQueueUrl())
                            .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES).build());
                }
            };
            case LEDGER -> new Runnable() {
                @Override
                public void run() {
                    try {
                        dynamo.get().transactWriteItems(TransactWriteItemsRequest.builder().transactItems(TransactWriteItem.builder()
                                .update(Update.builder().tableName(config.usageTable())
                                        .key(Map.of("pk", AttributeValue.fromS(PRIMING_KEY)))
                                        .updateExpression("SET primed = :t")
                                        .conditionExpression("attribute_exists(pk)")
                                        .expressionAttributeValues(Map.of(":t", AttributeValue.fromBool(true))).build()).build()).build());
                    } catch (TransactionCanceledException expected) {
                        // the condition never holds: nothing was written, the cancellation path is warm too
                    }
                }
            };
            case JSON -> new Runnable() {
                @Override
                public void run() {
                    dev.usagetracker.http.Json.read(dev.usagetracker.http.Json.write(Map.of("priming", List.of(1, "two"))), Map.class);
                }
            };
        };
    }

    /** Plans: items of the Clients table (docs/database.md). */
    public dev.usagetracker.plans.PlanStore planStore() {
        return new dev.usagetracker.store.DynamoPlanStore(dynamo.get(), config.clientsTable(), clock);
    }

    /** The plans the request path reads, cached per container for PLAN_CACHE_SECONDS. */
    public dev.usagetracker.plans.PlanCatalog planCatalog() {
        return planCatalog.get();
    }

    public dev.usagetracker.plans.PlanService planService() {
        return new dev.usagetracker.plans.PlanService(planStore(), planCatalog.get(), config.plans());
    }

    /** This month's hits per client: the Redis mirror, rebuilt from the daily aggregates when missing. */
    public dev.usagetracker.plans.MonthlyUsage monthlyUsage() {
        return new dev.usagetracker.plans.MonthlyUsage(redis.get(), new dev.usagetracker.store.DynamoMonthlyUsage(dynamo.get(), config.usageTable(), clock), clock);
    }

    public dev.usagetracker.plans.QuotaService quotaService() {
        return new dev.usagetracker.plans.QuotaService(clientStore.get(), planCatalog.get(), monthlyUsage(),
                new dev.usagetracker.store.DynamoThresholdClaims(dynamo.get(), config.usageTable()));
    }

    /** GET /api/clients: paged through the by_entity index, cursors sealed by the KMS MAC key. */
    public dev.usagetracker.clients.ClientListService clientList() {
        return new dev.usagetracker.clients.ClientListService((dev.usagetracker.store.DynamoClientStore) clientStore.get(), hasher.get());
    }

    /** The webhook queue (WEBHOOK_QUEUE_URL) and its dead-letter queue (WEBHOOK_DLQ_URL). */
    public dev.usagetracker.webhooks.WebhookQueue webhookQueue() {
        var settings = webhookSettings.get();
        return new dev.usagetracker.queue.SqsWebhookQueue(sqs.get(), settings.queueUrl(), settings.deadLetterUrl());
    }

    public dev.usagetracker.webhooks.WebhookUrlPolicy webhookUrlPolicy() {
        var settings = webhookSettings.get();
        return new dev.usagetracker.webhooks.WebhookUrlPolicy(settings.allowPrivate(), settings.reservedPorts());
    }

    /** PUT/GET/DELETE /api/clients/me/webhook and its test event. */
    public dev.usagetracker.webhooks.WebhookService webhooks() {
        return new dev.usagetracker.webhooks.WebhookService(new dev.usagetracker.store.DynamoWebhookStore(dynamo.get(),
                config.clientsTable()), cipher.get(), webhookUrlPolicy(), webhookQueue(), clock);
    }

    /** The webhook queue's consumer: signs, checks the receiver's address again, posts, retries. */
    public dev.usagetracker.webhooks.WebhookDelivery webhookDelivery() {
        var settings = webhookSettings.get();
        return new dev.usagetracker.webhooks.WebhookDelivery(new dev.usagetracker.store.DynamoWebhookStore(dynamo.get(),
                config.clientsTable()), cipher.get(), webhookUrlPolicy(),
                new dev.usagetracker.webhooks.WebhookSender(settings.timeout()), webhookQueue(), settings.schedule(), clock);
    }

    /**
     * What the mirrors and the alert detector hear of around each write of hits: the consumer's batches and
     * the ingest's SQS-down fallback both write through an {@link dev.usagetracker.ingest.ObservedLedger} with it.
     */
    private dev.usagetracker.ingest.CommitObserver commitObserver() {
        return parts -> {
            // Before the transactions: the monthly counter must know what is in flight (MonthlyUsage).
            var inFlight = counters.get().map(c -> c.begin(parts)).orElse(dev.usagetracker.plans.MonthlyUsage.InFlight.NONE);
            return committed -> {
                try {
                    // endpoints first: the counters then bump the cache versions of what changed
                    endpointMirror().ifPresent(m -> m.committed(committed));
                    counters.get().ifPresent(c -> c.committed(committed, inFlight));
                } finally {
                    // After the commit, and whether or not Redis took the mirror: alerts read DynamoDB.
                    thresholds.get().committed(committed);
                }
            };
        };
    }

    /** Quota threshold detection after each consumer commit (docs/alerts.md). */
    public dev.usagetracker.alerts.ThresholdDetector thresholdDetector() {
        return thresholds.get();
    }

    public AdminBootstrap adminBootstrap() {
        return new AdminBootstrap(clientStore.get(), registration.get(), hasher.get(), cipher.get(), clock);
    }

    /** DELETE /api/clients/me|{client_id}: marks the client erasing and queues its erasure. */
    public dev.usagetracker.clients.ClientErasureService clientErasure() {
        var settings = dev.usagetracker.erasure.ErasureSettings.from(LambdaEnvironment.get());
        return new dev.usagetracker.clients.ClientErasureService(clientStore.get(),
                new dev.usagetracker.queue.SqsErasureQueue(sqs.get(), settings.queueUrl()), credentialChanges.get(), clock,
                settings.delaySeconds());
    }

    /** The erasure function's work: every item and Redis key of one client. */
    public dev.usagetracker.erasure.ClientEraser clientEraser() {
        var store = new dev.usagetracker.store.DynamoErasureStore(dynamo.get(), config.clientsTable(), config.hitsTable(),
                config.usageTable(), config.stream().connectionsTable(), Duration.ofDays(config.retentionDays()), clock);
        dev.usagetracker.erasure.RedisErasure redisErasure = redis.get()
                .<dev.usagetracker.erasure.RedisErasure>map(dev.usagetracker.erasure.RedisClientErasure::new)
                .orElse(dev.usagetracker.erasure.RedisErasure.NONE);
        return new dev.usagetracker.erasure.ClientEraser(clientStore.get(), store, redisErasure);
    }
}
