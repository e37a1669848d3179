package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App;
import dev.usagetracker.TestClock;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.Registration;
import dev.usagetracker.config.Config;
import dev.usagetracker.functions.IngestHandler;
import dev.usagetracker.ingest.HitConsumer.QueuedMessage;
import dev.usagetracker.ingest.IngestService;
import dev.usagetracker.queue.SqsHitQueue;
import dev.usagetracker.store.DynamoIdempotencyStore;
import java.net.URI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The functions' code in this JVM on a clock the test moves: the composition root ({@link App}) against
 * the real emulators of {@link TestStack}, with resources of its own (a prefix, so its queue holds only
 * its hits), the ingest handler called with API Gateway events, and the hits queue drained by the real
 * consumer. SQS goes through a {@link FaultProxy} the test can cut; the idempotency store's "mark
 * acknowledged" write can be made to fail, as when the function dies right after its SQS send.
 */
final class InProcessStack implements AutoCloseable {
    final TestClock clock;
    final App app;
    final Config config;
    private final Map<String, String> env;
    final FaultProxy sqsProxy;
    final IngestHandler ingest;
    private final TestStack stack;
    private final DynamoDbClient idempotencyDynamo;
    /** While above 0, each idempotency "complete" write fails (and counts down). */
    final AtomicInteger failCompletes = new AtomicInteger();

    private InProcessStack(TestStack stack, String prefix, Map<String, String> overrides, Instant start) throws Exception {
        this.stack = stack;
        this.clock = new TestClock(start);
        SamTemplate template = SamTemplate.load(TestStack.PROJECT_ROOT.resolve("template.yaml"));
        Map<String, String> params = new HashMap<>(Map.of("Stage", "test", "RedisUrl", stack.emulators().redisUrl()));
        params.putAll(overrides);
        ResourceBootstrap.emulatedApiIds(template).forEach(params::putIfAbsent);
        ResourceBootstrap resources = new ResourceBootstrap(template, prefix, params)
                .create(stack.kms(), stack.dynamo(), stack.sqs(), 0);
        sqsProxy = new FaultProxy("sqs-" + prefix, URI.create(stack.emulators().sqsEndpoint()).getPort());
        Map<String, String> env = new HashMap<>(stack.emulators().clientEnvironment("test"));
        env.putAll(resources.environment(template.functions().getFirst()));
        // one process plays every function: each one's resources (the erasure queue, ...) are known to it
        template.functions().forEach(f -> resources.environment(f).forEach(env::putIfAbsent));
        env.put("AWS_ENDPOINT_URL_SQS", sqsProxy.endpoint());
        env.put("REDIS_URL", stack.emulators().redisUrl());
        env.put("REDIS_KEY_PREFIX", prefix + UUID.randomUUID().toString().substring(0, 6) + ":");
        // exact limits and quotas need Redis in charge on a loaded machine (PlansIT)
        env.put("REDIS_TIMEOUT_MS", "3000");
        env.put("REDIS_CONNECT_TIMEOUT_MS", "5000");
        env.putAll(overrides);
        this.env = Map.copyOf(env);
        config = Config.from(env);
        app = new App(config, clock);
        idempotencyDynamo = DynamoDbClient.builder()
                .region(Region.of(config.region()))
                .endpointOverride(config.endpoint("dynamodb").orElseThrow())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .overrideConfiguration(o -> o.addExecutionInterceptor(new FailCompletes()))
                .build();
        IngestService service = new IngestService(new SqsHitQueue(app.clients().sqs(), config.hitsQueueUrl()), app.ingest().ledger(),
                new DynamoIdempotencyStore(idempotencyDynamo, config.clientsTable()), clock);
        ingest = new IngestHandler(app.ingest().requestParser(), service, app.plans().rateLimits());
    }

    static InProcessStack start(TestStack stack, String prefix, Map<String, String> overrides, Instant start) throws Exception {
        return new InProcessStack(stack, prefix, overrides, start);
    }

    /** Registers a client as POST /api/register does; returns its API key. */
    String register(String clientId) {
        return app.accounts().registration().register(new Registration(clientId, clientId + "@example.com", clientId, List.of())).apiKey();
    }

    /** Erases a client as DELETE + the erasure worker do (the worker run at once). */
    void erase(String clientId) {
        // ErasureModule.service() reads the process environment (a Lambda's); this process has the stack's
        new dev.usagetracker.clients.ClientErasureService(app.identity().clientStore(),
                new dev.usagetracker.queue.SqsErasureQueue(app.clients().sqs(), env.get("ERASURE_QUEUE_URL")), app.identity().credentialChanges(),
                clock, 0).eraseOther(new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN)), clientId);
        app.erasure().eraser().erase(clientId);
    }

    /** POST /api/logs through the ingest function's handler. */
    APIGatewayV2HTTPResponse postLogs(String apiKey, String idempotencyKey, String body) {
        Map<String, String> headers = new HashMap<>(Map.of("content-type", "application/json", "x-api-key", apiKey));
        if (idempotencyKey != null) headers.put("idempotency-key", idempotencyKey);
        return ingest.handleRequest(event("POST", "/api/logs", headers, body), new LocalContext(UUID.randomUUID().toString(),
                "IngestFunction", 512, System.currentTimeMillis() + 30_000));
    }

    static APIGatewayV2HTTPEvent event(String method, String path, Map<String, String> headers, String body) {
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRawPath(path)
                .withHeaders(headers)
                .withBody(body)
                .withIsBase64Encoded(false)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withRequestId(UUID.randomUUID().toString())
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                                .withMethod(method).withPath(path).withSourceIp("127.0.0.1").build())
                        .build())
                .build();
    }

    /**
     * What the SQS event source mapping does, until the queue is empty: receive, hand to the real
     * consumer, delete what it did not report failed. Returns how many messages were processed.
     */
    int drain() {
        int processed = 0;
        int emptyPolls = 0;
        while (emptyPolls < 2) {
            List<Message> messages = stack.sqs().receiveMessage(r -> r.queueUrl(config.hitsQueueUrl())
                    .maxNumberOfMessages(10).waitTimeSeconds(0).visibilityTimeout(30)).messages();
            if (messages.isEmpty()) {
                emptyPolls++;
                continue;
            }
            emptyPolls = 0;
            Set<String> failed = app.ingest().consumer().process(messages.stream()
                    .map(m -> new QueuedMessage(m.messageId(), m.body())).toList());
            for (Message m : messages) {
                if (!failed.contains(m.messageId())) {
                    stack.sqs().deleteMessage(r -> r.queueUrl(config.hitsQueueUrl()).receiptHandle(m.receiptHandle()));
                    processed++;
                }
            }
        }
        return processed;
    }

    /** Hits counted for a client in its daily aggregates over {@code days} days up to the clock's day. */
    long counted(String clientId, int days) {
        java.time.LocalDate today = java.time.LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        List<java.time.LocalDate> range = new java.util.ArrayList<>();
        for (int i = days - 1; i >= 0; i--) range.add(today.minusDays(i));
        return app.usage().store().dailyCounts(clientId, range).values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public void close() {
        sqsProxy.close();
        idempotencyDynamo.close();
        app.clients().redis().ifPresent(dev.usagetracker.redis.Redis::close);
    }

    /** Fails DynamoIdempotencyStore.complete (an UpdateItem on an idem# item) while asked to. */
    private final class FailCompletes implements ExecutionInterceptor {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof UpdateItemRequest u && failCompletes.get() > 0
                    && u.key().get("client_id") != null && u.key().get("client_id").s().startsWith("idem#")
                    && failCompletes.getAndDecrement() > 0) {
                throw SdkClientException.create("injected: the function died before marking its key acknowledged");
            }
        }
    }
}
