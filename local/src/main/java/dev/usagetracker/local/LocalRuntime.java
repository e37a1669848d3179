package dev.usagetracker.local;

import dev.usagetracker.App;
import dev.usagetracker.auth.ApiKeys;
import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import dev.usagetracker.realtime.UsageFeed;
import dev.usagetracker.realtime.UsageHub;
import dev.usagetracker.realtime.UsageStream;
import dev.usagetracker.redis.Redis;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The whole service on one machine: reads template.yaml, creates its resources in the emulators
 * (or LocalStack/AWS when endpoints are given), serves its HTTP routes through the same function jars
 * that are deployed, and drives the queue consumer like Lambda's event source mapping.
 */
public final class LocalRuntime implements AutoCloseable {
    /** How to run. {@code emulators} empty means: start our own unless AWS endpoints are configured. */
    public record Options(Path projectRoot, String host, int port, Optional<Emulators> emulators,
                          Map<String, String> environment, Optional<String> adminApiKey,
                          Optional<Duration> batchWindow, int visibilityTimeoutSeconds, int maxConcurrency,
                          boolean prewarm, String resourcePrefix, int httpsPort, boolean httpsOnly) {
        /** Plain HTTP only (the tests' usual setup). */
        public Options(Path projectRoot, String host, int port, Optional<Emulators> emulators,
                       Map<String, String> environment, Optional<String> adminApiKey, Optional<Duration> batchWindow,
                       int visibilityTimeoutSeconds, int maxConcurrency, boolean prewarm, String resourcePrefix) {
            this(projectRoot, host, port, emulators, environment, adminApiKey, batchWindow, visibilityTimeoutSeconds,
                    maxConcurrency, prewarm, resourcePrefix, -1, false);
        }
    }

    private final Options options;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Map<String, FunctionPool> pools = new LinkedHashMap<>();
    private HttpApiGateway gateway;
    private LocalTls tls;
    private Emulators emulators;
    private String adminApiKey;
    private boolean adminKeyGenerated;
    private Path adminKeyFile;
    private final List<SqsEventSourceMapping> mappings = new ArrayList<>();
    private LocalWebSocketApi webSockets;
    private Optional<UsageHub> usageHub = Optional.empty();
    private Optional<UsageStream> usageStreams = Optional.empty();
    private Readiness readiness;
    private SqsClient sqs;
    private ResourceBootstrap resources;
    private LocalState state;
    private boolean stateRestored;

    private LocalRuntime(Options options) {
        this.options = options;
    }

    public static LocalRuntime start(Options options) throws Exception {
        LocalRuntime runtime = new LocalRuntime(options);
        try {
            runtime.boot();
            return runtime;
        } catch (Exception e) {
            runtime.close();
            throw e;
        }
    }

    private void boot() throws Exception {
        Map<String, String> base = new HashMap<>(options.environment());
        boolean external = base.keySet().stream().anyMatch(k -> k.startsWith("AWS_ENDPOINT_URL"))
                || "aws".equalsIgnoreCase(base.get("LOCAL_TARGET"));
        if (options.emulators().isPresent()) {
            emulators = options.emulators().get();
        } else if (!external) {
            // LOCAL_STATE_DIR (./scripts/dev: .local/state) keeps the emulators' data across restarts; tests leave it unset.
            Optional<String> stateDir = Optional.ofNullable(base.get("LOCAL_STATE_DIR")).filter(d -> !d.isBlank());
            if (stateDir.isPresent()) {
                state = LocalState.open(options.projectRoot().resolve(stateDir.get()), "true".equalsIgnoreCase(base.get("LOCAL_FRESH")));
                stateRestored = !state.isEmpty();
                closeables.add(state);
            }
            emulators = Emulators.start(options.projectRoot().resolve(".local/logs"), 0, 0, 0, state);
            closeables.add(emulators);
        }
        if (emulators != null) {
            // An endpoint given with the emulators wins: the fault tests put a FaultProxy in between.
            base.putIfAbsent("AWS_ENDPOINT_URL_SQS", emulators.sqsEndpoint());
            base.putIfAbsent("AWS_ENDPOINT_URL_DYNAMODB", emulators.awsEndpoint());
            base.putIfAbsent("AWS_ENDPOINT_URL_KMS", emulators.awsEndpoint());
            base.putIfAbsent("AWS_ACCESS_KEY_ID", "local");
            base.putIfAbsent("AWS_SECRET_ACCESS_KEY", "local");
        }
        base.putIfAbsent("AWS_REGION", Emulators.REGION);

        SamTemplate template = SamTemplate.load(options.projectRoot().resolve("template.yaml"));
        // The runtime's own SQS client (sqs(): queue attributes, as configured); the set-up has its own below.
        this.sqs = AwsClients.sqs(Config.from(base));
        closeables.add(sqs);
        Map<String, String> parameters = new HashMap<>();
        // A stage per resource prefix: REDIS_KEY_PREFIX is ut:<Stage>:, so the rate-limit counters of two
        // runtimes sharing one redis-server never mix (as two deployed stages would not).
        parameters.put("Stage", options.resourcePrefix().isEmpty() ? "local"
                : "local-" + options.resourcePrefix().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-"));
        if (emulators != null) parameters.put("RedisUrl", emulators.redisUrl());
        // Template parameters can be given like variables, e.g. RateLimitIngest=5/1m (sam's --parameter-overrides).
        template.parameters().keySet().forEach(name -> {
            String value = base.get(name);
            if (value != null) parameters.put(name, value);
        });
        // The WebSocket API is emulated here, not created: its ids resolve to "local" and functions get
        // this runtime's @connections endpoint (below), bound now so its port is known.
        ResourceBootstrap.emulatedApiIds(template).forEach(parameters::putIfAbsent);
        int webSocketPort = Optional.ofNullable(options.environment().get("WS_PORT")).map(Integer::parseInt)
                .orElse(options.port() <= 0 ? 0 : options.port() + 1);
        webSockets = LocalWebSocketApi.bind(options.host(), webSocketPort);
        closeables.add(webSockets);
        // The set-up waits for an emulator slowed by a loaded machine instead of failing the start after the
        // functions' 5 s call timeout (its clients are patient; the runtime's own stay as configured).
        Map<String, String> patient = new HashMap<>(base);
        patient.putIfAbsent("AWS_SDK_ATTEMPT_TIMEOUT_MS", "15000");
        patient.putIfAbsent("AWS_SDK_CALL_TIMEOUT_MS", "30000");
        Config setUp = Config.from(patient);
        try (KmsClient setUpKms = AwsClients.kms(setUp); DynamoDbClient setUpDynamo = AwsClients.dynamo(setUp);
             SqsClient setUpSqs = AwsClients.sqs(setUp)) {
            resources = new ResourceBootstrap(template, options.resourcePrefix(), parameters)
                    .create(setUpKms, setUpDynamo, setUpSqs, options.visibilityTimeoutSeconds());
        }

        for (SamTemplate.Function f : template.functions()) {
            Map<String, String> env = new HashMap<>(base);
            Map<String, String> templateEnv = resources.environment(f);
            env.putAll(templateEnv);
            // A variable the template sets can be overridden from the environment (ADMIN_ALLOWED_CIDRS=… ./scripts/dev).
            templateEnv.keySet().forEach(k -> {
                if (options.environment().containsKey(k)) env.put(k, options.environment().get(k));
            });
            // Webhook receivers: the template's strict policy (public https only) unless the environment says
            // WEBHOOK_ALLOW_PRIVATE=true, as ./scripts/dev does; the container image (same entrypoint) does not.
            if (env.containsKey("WEBSOCKET_CALLBACK_URL") && !options.environment().containsKey("WEBSOCKET_CALLBACK_URL")) {
                env.put("WEBSOCKET_CALLBACK_URL", webSockets.callbackUrl());
                // What the emulated @connections requires instead of SigV4: only functions this runtime runs know it.
                env.put("WEBSOCKET_CALLBACK_SECRET", webSockets.callbackSecret());
            }
            env.put("AWS_LAMBDA_FUNCTION_NAME", f.logicalId());
            env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(f.memoryMb()));
            FunctionPool pool = new FunctionPool(f, options.projectRoot(), env, options.maxConcurrency());
            pools.put(f.logicalId(), pool);
            closeables.add(pool);
        }

        // The runtime's own composition root, with the functions' view of resources, for the admin bootstrap.
        Map<String, String> adminEnv = new HashMap<>(base);
        adminEnv.putAll(resources.environment(template.functions().getFirst()));
        App app = new App(Config.from(adminEnv), Clock.systemUTC());
        bootstrapAdmin(app);

        gateway = new HttpApiGateway(options.host(), options.httpsOnly() ? -1 : options.port(), List.copyOf(pools.values()),
                RequestDeadlines.from(options.environment()));
        if (options.httpsPort() >= 0) {
            tls = LocalTls.loadOrCreate(options.projectRoot().resolve(".local/tls"));
            gateway.withHttps(options.host(), options.httpsPort(), tls.context());
        }
        // Now that every port is bound: no webhook receiver may be one of them, whatever the policy (issue 22).
        String reservedPorts = reservedPorts(base).stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
        pools.values().forEach(p -> p.addEnvironment(Map.of("WEBHOOK_RESERVED_PORTS", reservedPorts)));

        if (options.prewarm()) prewarm();
        DeveloperEndpoints.install(gateway, OpenApiDocument.load(options.projectRoot()), new SwaggerUi(), pools,
                () -> List.copyOf(mappings));
        readiness = readiness(base, resources);
        new HealthRoutes(readiness).register(gateway);
        startRealTime(template, app);
        gateway.start();
        closeables.add(gateway);

        startSchedules(template);
        for (SamTemplate.Function f : template.functions()) {
            if (f.queueEvent().isEmpty()) continue;
            SamTemplate.QueueEvent q = f.queueEvent().get();
            Duration window = options.batchWindow().orElse(Duration.ofSeconds(q.batchingWindowSeconds()));
            SqsEventSourceMapping esm = new SqsEventSourceMapping(pollerSqs(base), resources.ref(q.queueLogicalId()),
                    resources.resolve(new SamTemplate.Intrinsic("GetAtt", q.queueLogicalId() + ".Arn")),
                    pools.get(f.logicalId()), q.batchSize(), window, q.reportsItemFailures()).start(2);
            mappings.add(esm);
            closeables.add(esm);
        }
    }

    /**
     * This runtime's own ports: its gateway (HTTP, HTTPS), the WebSocket and @connections port, and every
     * endpoint it talks to (ElasticMQ, moto_server, redis-server, or the LocalStack/Redis it was pointed at).
     * A webhook aimed at one of them would let a client send SQS, KMS or Redis requests as this service.
     */
    private java.util.SortedSet<Integer> reservedPorts(Map<String, String> base) {
        java.util.SortedSet<Integer> ports = new java.util.TreeSet<>();
        ports.add(gateway.port());
        ports.add(gateway.httpsPort());
        ports.add(webSockets.port());
        List<String> endpoints = new ArrayList<>();
        base.forEach((k, v) -> {
            if (k.startsWith("AWS_ENDPOINT_URL") || k.equals("REDIS_URL")) endpoints.add(v);
        });
        pools.values().stream().findFirst().ifPresent(p -> p.environment().forEach((k, v) -> {
            if (k.startsWith("AWS_ENDPOINT_URL") || k.equals("REDIS_URL") || k.equals("WEBSOCKET_CALLBACK_URL")) endpoints.add(v);
        }));
        if (emulators != null) endpoints.addAll(List.of(emulators.sqsEndpoint(), emulators.awsEndpoint(), emulators.redisUrl()));
        for (String endpoint : endpoints) {
            try {
                int port = java.net.URI.create(endpoint.trim()).getPort();
                if (port > 0) ports.add(port);
            } catch (IllegalArgumentException e) {
                // not a URL: nothing to reserve
            }
        }
        ports.removeIf(p -> p <= 0);
        return ports;
    }

    /**
     * Live updates, which need a long-lived process: one Redis subscription for the whole runtime, fanned
     * out to the SSE streams ({@code GET /api/usage/stream}) and the WebSocket emulation; the dashboard.
     */
    private void startRealTime(SamTemplate template, App app) throws Exception {
        Optional<Redis> redis = app.clients().redis();
        redis.ifPresent(closeables::add);
        usageHub = redis.map(r -> UsageHub.start(new UsageFeed(r), Duration.ofSeconds(2)));
        usageHub.ifPresent(closeables::add);
        usageStreams = usageHub.map(h -> new UsageStream(h, new UsageFeed(redis.get()), app.config().stream(),
                app.config().tokenTtl(), app.identity().authenticator()::registeredAt));
        gateway.addStreamingRoute("GET", UsageStreamEndpoint.PATH, new UsageStreamEndpoint(app.identity().authenticator(),
                app.realtime().tickets(), app.plans().rateLimits(), usageStreams, app.realtime().tokenExpiry()));
        Dashboard.install(gateway);
        Map<String, FunctionPool> webSocketRoutes = new LinkedHashMap<>();
        WebSocketRoutes.of(template).forEach((routeKey, function) -> webSocketRoutes.put(routeKey, pools.get(function)));
        webSockets.start(webSocketRoutes, app.realtime().connectionStore(), usageHub, app.identity().authenticator(), app.config().stream());
        // Ready means live: give the subscription a moment (Redis may be down: the hub keeps trying).
        if (usageHub.isPresent() && !usageHub.get().awaitLive(Duration.ofSeconds(5))) {
            org.slf4j.LoggerFactory.getLogger(LocalRuntime.class).warn("live updates are not flowing yet: Redis is not answering");
        }
    }

    /**
     * EventBridge schedules: each scheduled function runs once at start (pre-warming) and then on its
     * rate, with a scheduled-event payload, in its own containers like any invocation.
     */
    private void startSchedules(SamTemplate template) {
        var scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "local-schedules");
            t.setDaemon(true);
            return t;
        });
        closeables.add(scheduler::shutdownNow);
        for (SamTemplate.Function f : template.functions()) {
            for (SamTemplate.ScheduleEvent schedule : f.schedules()) {
                FunctionPool pool = pools.get(f.logicalId());
                Runnable run = () -> {
                    try {
                        Object result = pool.invoke(new HashMap<>(Map.of("source", "aws.events",
                                "detail-type", "Scheduled Event", "time", java.time.Instant.now().toString())));
                        org.slf4j.LoggerFactory.getLogger(LocalRuntime.class).info("{} ran: {}", f.logicalId(), result);
                    } catch (Exception e) {
                        org.slf4j.LoggerFactory.getLogger(LocalRuntime.class).warn("{} failed", f.logicalId(), e);
                    }
                };
                // LOCAL_SCHEDULE_SECONDS shortens every schedule (tests, demos).
                long period = Optional.ofNullable(options.environment().get("LOCAL_SCHEDULE_SECONDS"))
                        .map(v -> (long) (Double.parseDouble(v) * 1000)).orElse(schedule.period().toMillis());
                scheduler.scheduleAtFixedRate(run, 0, period, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * The event source mapping's own SQS client, standing in for Lambda's pollers: a long poll waits
     * up to a second, more than the functions' SQS attempt timeout, so it gets timeouts of its own.
     */
    private SqsClient pollerSqs(Map<String, String> base) {
        Map<String, String> env = new HashMap<>(base);
        env.put("AWS_SDK_ATTEMPT_TIMEOUT_MS_SQS", "5000");
        env.put("AWS_SDK_CALL_TIMEOUT_MS_SQS", "10000");
        SqsClient client = AwsClients.sqs(Config.from(env));
        closeables.add(client);
        return client;
    }

    /** Health probes on clients of their own: one attempt each, so a dead dependency answers within the deadline. */
    private Readiness readiness(Map<String, String> base, ResourceBootstrap resources) {
        Map<String, String> env = new HashMap<>(base);
        env.put("AWS_MAX_ATTEMPTS", "1");
        env.put("AWS_SDK_ATTEMPT_TIMEOUT_MS", Long.toString(Readiness.DEADLINE.toMillis()));
        env.put("AWS_SDK_CALL_TIMEOUT_MS", Long.toString(Readiness.DEADLINE.toMillis()));
        Config config = Config.from(env);
        DynamoDbClient dynamo = AwsClients.dynamo(config);
        SqsClient sqs = AwsClients.sqs(config);
        KmsClient kms = AwsClients.kms(config);
        closeables.add(dynamo);
        closeables.add(sqs);
        closeables.add(kms);
        Optional<Integer> redisPort = emulators == null ? Optional.empty()
                : Optional.of(java.net.URI.create(emulators.redisUrl()).getPort());
        return new Readiness(dynamo, resources.ref("ClientsTable"), sqs, resources.ref("HitsQueue"),
                resources.ref("HitsDeadLetterQueue"), kms, resources.ref("SigningKey"), redisPort, () -> mappings);
    }

    private void bootstrapAdmin(App app) throws IOException {
        Optional<String> given = options.adminApiKey().filter(k -> !k.isBlank());
        adminKeyFile = options.projectRoot().resolve(".local/admin-api-key");
        // A kept state keeps its admin: the key generated before, not a new one that would replace it.
        Optional<String> kept = given.isPresent() || !stateRestored || !Files.isRegularFile(adminKeyFile) ? Optional.empty()
                : Optional.of(Files.readString(adminKeyFile).strip()).filter(ApiKeys::isPlausible);
        adminApiKey = given.or(() -> kept).orElseGet(ApiKeys::generate);
        adminKeyGenerated = given.isEmpty();
        app.accounts().adminBootstrap().ensureAdmin(adminApiKey, "admin@localhost");
        if (adminKeyGenerated) {
            Files.createDirectories(adminKeyFile.getParent());
            Files.writeString(adminKeyFile, adminApiKey + "\n");
            try {
                Files.setPosixFilePermissions(adminKeyFile, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system; the file stays under .local/, which git ignores
            }
        }
    }

    private void prewarm() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> started = new ArrayList<>();
            for (FunctionPool p : pools.values()) started.add(pool.submit(() -> {
                p.prewarm();
                return null;
            }));
            for (Future<?> f : started) f.get();
        } finally {
            pool.shutdown();
        }
    }

    public String baseUrl() {
        return gateway.port() >= 0 ? "http://" + options.host() + ":" + gateway.port() : httpsUrl();
    }

    public String httpsUrl() {
        return gateway.httpsPort() < 0 ? null : "https://" + options.host() + ":" + gateway.httpsPort();
    }

    public Optional<LocalTls> tls() {
        return Optional.ofNullable(tls);
    }

    public int port() {
        return gateway.port();
    }

    /** How long a client may take to send a whole request before its connection is closed. */
    public java.time.Duration requestTimeout() {
        return gateway.requestTimeout();
    }

    public String adminApiKey() {
        return adminApiKey;
    }

    public Optional<Emulators> emulators() {
        return Optional.ofNullable(emulators);
    }

    public Map<String, FunctionPool> pools() {
        return pools;
    }

    public RuntimeMetrics metrics() {
        return gateway.metrics();
    }

    /** The WebSocket emulation's URL: ws://host:port (connect with ?token=). */
    public String webSocketUrl() {
        return webSockets.url();
    }

    /** Open WebSocket connections. */
    public int webSocketConnections() {
        return webSockets.openConnections();
    }

    /** The emulated @connections endpoint and the secret it requires (the functions this runtime runs get both). */
    public String webSocketCallbackUrl() {
        return webSockets.callbackUrl();
    }

    String webSocketCallbackSecret() {
        return webSockets.callbackSecret();
    }

    public Optional<UsageHub> usageHub() {
        return usageHub;
    }

    public Optional<UsageStream> usageStreams() {
        return usageStreams;
    }

    public List<SqsEventSourceMapping> eventSourceMappings() {
        return mappings;
    }

    public Readiness readiness() {
        return readiness;
    }

    /** The physical name or URL of a template resource (queue URL, table name, key id). */
    public String resource(String logicalId) {
        return resources.ref(logicalId);
    }

    /** The runtime's own SQS client (the one its event source mappings poll with). */
    public SqsClient sqs() {
        return sqs;
    }

    /** What was started and where, for people. The admin key itself is printed only if it was generated. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("\nusage-tracker local runtime is ready\n\n");
        if (gateway.port() >= 0) sb.append("  API        ").append("http://" + options.host() + ":" + gateway.port()).append('\n');
        if (tls != null) {
            sb.append("  API (TLS)  ").append(httpsUrl()).append("  (self-signed; trust ").append(tls.certificate())
                    .append(", e.g. curl --cacert)").append('\n');
        }
        gateway.routes().forEach((route, pool) -> sb.append(String.format("    %-32s → %s%n", route, pool.function().logicalId())));
        mappings.forEach(m -> sb.append("  consumer   ").append(m.queueLogicalId())
                .append(" → ").append(m.functionName()).append(" (event source mapping)\n"));
        sb.append("  live       ").append(baseUrl()).append(UsageStreamEndpoint.PATH).append("  (SSE; ticket: POST /api/usage/stream/ticket)\n");
        sb.append("  websocket  ").append(webSocketUrl()).append("?token=…  ($connect/$disconnect → StreamFunction; @connections at ")
                .append(webSockets.callbackUrl()).append(")\n");
        sb.append("  dashboard  ").append(baseUrl()).append(Dashboard.PAGE).append('\n');
        sb.append("  docs       ").append(baseUrl()).append(SwaggerUi.PAGE).append("  (Swagger UI)\n");
        sb.append("  contract   ").append(baseUrl()).append(DeveloperEndpoints.OPENAPI).append('\n');
        sb.append("  metrics    ").append(baseUrl()).append(DeveloperEndpoints.METRICS).append('\n');
        if (emulators != null) {
            Map<String, Boolean> up = emulators.health();
            sb.append("  SQS        ").append(emulators.sqsEndpoint()).append("  (ElasticMQ, embedded)  ").append(state(up.get("sqs"))).append('\n');
            sb.append("  DynamoDB   ").append(emulators.awsEndpoint()).append("  (moto_server)  ").append(state(up.get("moto"))).append('\n');
            sb.append("  KMS        ").append(emulators.awsEndpoint()).append("  (moto_server)  ").append(state(up.get("moto"))).append('\n');
            sb.append("  Redis      ").append(emulators.redisUrl()).append("  (redis-server)  ").append(state(up.get("redis"))).append('\n');
            sb.append("  logs       ").append(options.projectRoot().resolve(".local/logs")).append('\n');
            sb.append("  state      ").append(state == null ? "in memory: a restart starts empty"
                    : state.dir() + (stateRestored ? "  (restored; --fresh starts empty)" : "  (empty; kept across restarts)")).append('\n');
        } else {
            sb.append("  AWS        endpoints from the environment (AWS_ENDPOINT_URL*)\n");
        }
        Readiness.Report health = readiness.check();
        sb.append("  health     ").append(baseUrl()).append("/health/ready: ").append(health.status()).append('\n');
        Readiness.lines(health).forEach(line -> sb.append(line).append('\n'));
        if (adminKeyGenerated) {
            sb.append("  admin key  ").append(adminApiKey).append("  (generated; also in ").append(adminKeyFile).append(")\n");
        } else {
            sb.append("  admin key  from ADMIN_API_KEY\n");
        }
        sb.append("\nCtrl-C stops everything started here.\n");
        return sb.toString();
    }

    /**
     * Where this runtime's queues, tables and endpoints are, for tools run beside it (scripts/redrive-dlq,
     * scripts/backfill-client-index).
     * Local endpoints and the emulators' dummy credentials only; nothing secret.
     */
    void writeConnectionFile(Path file) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("HITS_QUEUE_URL", resource("HitsQueue"));
        values.put("HITS_DLQ_URL", resource("HitsDeadLetterQueue"));
        values.put("CLIENTS_TABLE", resource("ClientsTable"));
        values.put("AWS_REGION", options.environment().getOrDefault("AWS_REGION", Emulators.REGION));
        if (emulators != null) {
            values.put("AWS_ENDPOINT_URL_SQS", emulators.sqsEndpoint());
            values.put("AWS_ENDPOINT_URL_DYNAMODB", emulators.awsEndpoint());
            values.put("AWS_ACCESS_KEY_ID", "local");
            values.put("AWS_SECRET_ACCESS_KEY", "local");
        }
        StringBuilder sb = new StringBuilder("# written by the local runtime at start; read by scripts/redrive-dlq and scripts/backfill-client-index\n");
        values.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        Files.createDirectories(file.getParent());
        Files.writeString(file, sb.toString());
    }

    private static String state(Boolean up) {
        return Boolean.TRUE.equals(up) ? "up" : "DOWN";
    }

    /**
     * The orderly stop, also what the shutdown hook of {@link #main} runs: in the reverse order of the start, so
     * the consumer's pollers stop (handing a gathered batch back through SQS) before the clients they use, the
     * functions before the emulators, ElasticMQ before its H2 store (Emulators), and the state's lock goes last.
     */
    @Override
    public void close() {
        mappings.forEach(SqsEventSourceMapping::stopPolling);
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // keep closing the rest
            }
        }
        closeables.clear();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        Path root = Path.of(System.getProperty("project.root", ".")).toAbsolutePath().normalize();
        // Data survives restarts in .local/state/ (LOCAL_STATE_DIR= keeps it in memory); --fresh starts empty.
        env.putIfAbsent("LOCAL_STATE_DIR", root.resolve(".local/state").toString());
        if (List.of(args).contains("--fresh")) env.put("LOCAL_FRESH", "true");
        Options options = new Options(root,
                env.getOrDefault("HOST", "127.0.0.1"),
                Integer.parseInt(env.getOrDefault("PORT", "3000")),
                Optional.empty(),
                env,
                Optional.ofNullable(env.get("ADMIN_API_KEY")),
                Optional.ofNullable(env.get("LOCAL_BATCH_WINDOW_SECONDS")).map(s -> Duration.ofMillis((long) (Double.parseDouble(s) * 1000))),
                Integer.parseInt(env.getOrDefault("LOCAL_VISIBILITY_TIMEOUT_SECONDS", "0")),
                Integer.parseInt(env.getOrDefault("LOCAL_MAX_CONCURRENCY", "4")),
                !"false".equalsIgnoreCase(env.get("LOCAL_PREWARM")),
                env.getOrDefault("LOCAL_RESOURCE_PREFIX", ""),
                Integer.parseInt(env.getOrDefault("HTTPS_PORT", "3443")),
                "true".equalsIgnoreCase(env.get("LOCAL_HTTPS_ONLY")) || List.of(args).contains("--https-only"));
        LocalRuntime runtime = start(options);
        Runtime.getRuntime().addShutdownHook(new Thread(runtime::close, "local-runtime-shutdown"));
        runtime.writeConnectionFile(root.resolve(".local/runtime.env"));
        System.out.println(runtime.summary());
        Thread.currentThread().join();
    }
}
