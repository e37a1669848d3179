package dev.usagetracker.local;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * {@code GET /health/ready}: each dependency probed with one cheap call, in parallel, within a
 * deadline. Overall {@code down} only when hits cannot be taken at all (neither SQS nor DynamoDB
 * answers, DESIGN.md §5), {@code degraded} when the service works in a reduced mode (one of them down,
 * KMS or Redis down, the consumer stopped, messages in the dead-letter queue), else {@code ok}.
 */
public final class Readiness {
    static final Duration DEADLINE = Duration.ofMillis(1_500);

    public enum State { ok, degraded, down }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Component(State status, long latencyMs, String detail, Map<String, Long> metrics) {}

    public record Report(State status, Instant checkedAt, Map<String, Component> components) {
        public boolean canIngest() {
            return status != State.down;
        }
    }

    private final DynamoDbClient dynamo;
    private final String clientsTable;
    private final SqsClient sqs;
    private final String queueUrl;
    private final String deadLetterQueueUrl;
    private final KmsClient kms;
    private final String signingKeyId;
    private final Optional<Integer> redisPort;
    private final Supplier<List<SqsEventSourceMapping>> consumers;

    public Readiness(DynamoDbClient dynamo, String clientsTable, SqsClient sqs, String queueUrl, String deadLetterQueueUrl,
                     KmsClient kms, String signingKeyId, Optional<Integer> redisPort,
                     Supplier<List<SqsEventSourceMapping>> consumers) {
        this.dynamo = dynamo;
        this.clientsTable = clientsTable;
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.deadLetterQueueUrl = deadLetterQueueUrl;
        this.kms = kms;
        this.signingKeyId = signingKeyId;
        this.redisPort = redisPort;
        this.consumers = consumers;
    }

    public Report check() {
        Map<String, Supplier<Component>> probes = new LinkedHashMap<>();
        probes.put("dynamodb", () -> timed(() -> {
            dynamo.getItem(r -> r.tableName(clientsTable).key(Map.of("client_id", AttributeValue.fromS("health#probe"))));
            return ok("");
        }));
        probes.put("sqs", () -> timed(this::queues));
        probes.put("kms", () -> timed(() -> {
            kms.describeKey(r -> r.keyId(signingKeyId));
            return ok("");
        }));
        redisPort.ifPresent(port -> probes.put("redis", () -> timed(() -> Emulators.redisPing(port)
                ? ok("") : new Component(State.down, 0, "no PONG", Map.of()))));
        probes.put("consumer", this::consumer);

        Map<String, Component> components = new LinkedHashMap<>();
        // Not try-with-resources: close() would wait for a probe stuck on a hung dependency.
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Map<String, Future<Component>> running = new LinkedHashMap<>();
            probes.forEach((name, probe) -> running.put(name, pool.submit(probe::get)));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            running.forEach((name, future) -> components.put(name, await(future, deadline)));
        } finally {
            pool.shutdownNow();
        }
        return new Report(overall(components), Instant.now(), components);
    }

    static State overall(Map<String, Component> components) {
        boolean sqsDown = components.get("sqs").status() == State.down;
        boolean dynamoDown = components.get("dynamodb").status() == State.down;
        if (sqsDown && dynamoDown) return State.down;
        return components.values().stream().allMatch(c -> c.status() == State.ok) ? State.ok : State.degraded;
    }

    private Component queues() {
        var main = sqs.getQueueAttributes(r -> r.queueUrl(queueUrl).attributeNames(
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
                .attributes();
        long dead = Long.parseLong(sqs.getQueueAttributes(r -> r.queueUrl(deadLetterQueueUrl)
                .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes()
                .getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0"));
        Map<String, Long> metrics = new LinkedHashMap<>();
        metrics.put("queued", Long.parseLong(main.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0")));
        metrics.put("in_flight", Long.parseLong(main.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0")));
        metrics.put("dead_letters", dead);
        return dead > 0
                ? new Component(State.degraded, 0, dead + " message(s) in the dead-letter queue; run scripts/redrive-dlq once the cause is fixed", metrics)
                : new Component(State.ok, 0, "", metrics);
    }

    private Component consumer() {
        List<SqsEventSourceMapping> all = consumers.get();
        if (all.isEmpty()) return new Component(State.down, 0, "no event source mapping", Map.of());
        boolean running = all.stream().allMatch(SqsEventSourceMapping::isRunning);
        long lastPoll = all.stream().mapToLong(SqsEventSourceMapping::lastSuccessfulPollMillis).min().orElse(0);
        Map<String, Long> metrics = new LinkedHashMap<>();
        metrics.put("invocations", all.stream().mapToLong(SqsEventSourceMapping::invocations).sum());
        if (lastPoll > 0) metrics.put("since_last_poll_ms", System.currentTimeMillis() - lastPoll);
        return running ? new Component(State.ok, 0, "", metrics)
                : new Component(State.down, 0, "the event source mapping is stopped; hits wait in SQS", metrics);
    }

    private static Component ok(String detail) {
        return new Component(State.ok, 0, detail, Map.of());
    }

    private static Component timed(Supplier<Component> probe) {
        long t0 = System.nanoTime();
        Component c;
        try {
            c = probe.get();
        } catch (RuntimeException e) {
            c = new Component(State.down, 0, e.getClass().getSimpleName(), Map.of());
        }
        return new Component(c.status(), (System.nanoTime() - t0) / 1_000_000, c.detail(), c.metrics());
    }

    private static Component await(Future<Component> future, long deadlineNanos) {
        try {
            return future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            return new Component(State.down, DEADLINE.toMillis(), "no answer within " + DEADLINE.toMillis() + " ms", Map.of());
        } catch (ExecutionException e) {
            return new Component(State.down, 0, e.getCause().getClass().getSimpleName(), Map.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Component(State.down, 0, "interrupted", Map.of());
        }
    }

    /** One line per component, for the runtime's startup summary. */
    public static List<String> lines(Report report) {
        List<String> lines = new ArrayList<>();
        report.components().forEach((name, c) -> lines.add(String.format("    %-9s %-8s %4d ms  %s", name, c.status(),
                c.latencyMs(), c.detail() == null ? "" : c.detail())));
        return lines;
    }
}
