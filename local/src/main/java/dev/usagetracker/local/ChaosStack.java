package dev.usagetracker.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.queue.DeadLetterRedrive;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A whole local deployment built to be broken, for the fault-injection tests and scripts/chaos: its
 * own emulators (so nothing else shares its damage), a {@link FaultProxy} in front of SQS (ElasticMQ)
 * and one in front of moto (DynamoDB and KMS), and the local runtime wired through them. Faults:
 * SQS or DynamoDB unreachable (proxy cut: connections reset, nothing reaches the emulator), DynamoDB
 * hung (moto frozen with SIGSTOP: it keeps its data and its sockets, answers nothing), the consumer
 * killed mid-batch. Recovery ends with {@link #settle}: queues drained, the DLQ redriven, counts stable.
 */
public final class ChaosStack implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String ADMIN_KEY = "chaos-admin-key-0123456789";

    private final Emulators emulators;
    private final FaultProxy sqsProxy;
    private final FaultProxy awsProxy;
    private final LocalRuntime runtime;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile boolean motoPaused;
    private String adminToken;
    private long adminTokenAt;

    private ChaosStack(Emulators emulators, FaultProxy sqsProxy, FaultProxy awsProxy, LocalRuntime runtime) {
        this.emulators = emulators;
        this.sqsProxy = sqsProxy;
        this.awsProxy = awsProxy;
        this.runtime = runtime;
    }

    /**
     * @param retryBaseSeconds the consumer's redelivery backoff base (RETRY_BASE_SECONDS); small, so
     *                         that a message reaches the DLQ within seconds when DynamoDB stays down
     */
    public static ChaosStack start(Path projectRoot, Path logDir, int retryBaseSeconds, int visibilityTimeoutSeconds)
            throws Exception {
        return start(projectRoot, logDir, retryBaseSeconds, visibilityTimeoutSeconds, Map.of());
    }

    /** As above, with variables of the caller's that override the stack's (e.g. SDK timeouts for a loaded machine). */
    public static ChaosStack start(Path projectRoot, Path logDir, int retryBaseSeconds, int visibilityTimeoutSeconds,
                                   Map<String, String> environment) throws Exception {
        Emulators emulators = Emulators.start(logDir, 0, 0, 0);
        FaultProxy sqsProxy = null;
        FaultProxy awsProxy = null;
        try {
            sqsProxy = new FaultProxy("sqs", URI.create(emulators.sqsEndpoint()).getPort());
            awsProxy = new FaultProxy("moto", URI.create(emulators.awsEndpoint()).getPort());
            Map<String, String> env = new HashMap<>();
            env.put("AWS_ENDPOINT_URL_SQS", sqsProxy.endpoint());
            env.put("AWS_ENDPOINT_URL_DYNAMODB", awsProxy.endpoint());
            env.put("AWS_ENDPOINT_URL_KMS", awsProxy.endpoint());
            env.put("RETRY_BASE_SECONDS", Integer.toString(retryBaseSeconds));
            env.put("RETRY_MAX_SECONDS", Integer.toString(3 * retryBaseSeconds));
            // The load is thousands of hits per client: quotas would turn it into 429s. The limiter stays
            // in the path (one Redis call per request) with room to spare.
            env.put("RateLimitIngest", "1000000/1m");
            env.put("RateLimitIngestHits", "100000000/1m");
            env.put("RateLimitRead", "100000/1m");
            env.put("RateLimitRegister", "100000/1m");
            env.put("RateLimitRegisterEmail", "100000/1m");
            env.put("RateLimitRegisterGlobal", "100000/1m");
            env.putAll(environment);
            LocalRuntime runtime = LocalRuntime.start(new LocalRuntime.Options(projectRoot, "127.0.0.1", 0,
                    Optional.of(emulators), env, Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)),
                    visibilityTimeoutSeconds, 6, true, "chaos-"));
            return new ChaosStack(emulators, sqsProxy, awsProxy, runtime);
        } catch (Exception | Error e) {
            if (sqsProxy != null) sqsProxy.close();
            if (awsProxy != null) awsProxy.close();
            emulators.close();
            throw e;
        }
    }

    public LocalRuntime runtime() { return runtime; }
    public String baseUrl() { return runtime.baseUrl(); }

    // --- faults ----------------------------------------------------------------------------------

    public void cutSqs() { sqsProxy.cut(); }
    public void restoreSqs() { sqsProxy.restore(); }
    public void cutDynamo() { awsProxy.cut(); }
    public void restoreDynamo() { awsProxy.restore(); }

    public synchronized void pauseDynamo() {
        if (!motoPaused) {
            emulators.moto().pause();
            motoPaused = true;
        }
    }

    public synchronized void resumeDynamo() {
        if (motoPaused) {
            emulators.moto().resume();
            motoPaused = false;
        }
    }

    public void killConsumer() { runtime.eventSourceMappings().forEach(SqsEventSourceMapping::kill); }

    public void startConsumer() {
        runtime.eventSourceMappings().stream().filter(m -> !m.isRunning()).forEach(m -> m.start(2));
    }

    public void restoreAll() {
        resumeDynamo();
        restoreDynamo();
        restoreSqs();
        startConsumer();
    }

    // --- clients and books -----------------------------------------------------------------------

    public List<LoadGenerator.Client> register(String tag, int n, boolean idempotent) throws IOException, InterruptedException {
        List<LoadGenerator.Client> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = (tag + "-" + i + "-" + UUID.randomUUID().toString().substring(0, 6)).toLowerCase(java.util.Locale.ROOT);
            JsonNode r = send("POST", "/api/register", Map.of(), MAPPER.writeValueAsString(Map.of("name", id,
                    "email", id + "@chaos.example", "client_id", id)), 201);
            clients.add(new LoadGenerator.Client(id, r.get("api_key").asText(), idempotent));
        }
        return clients;
    }

    /** Each client's total of today and yesterday (a run may cross midnight UTC), read through the API as an admin. */
    public Map<String, Long> counts() throws IOException, InterruptedException {
        if (adminToken == null || System.currentTimeMillis() - adminTokenAt > 600_000) {
            adminToken = send("POST", "/api/token", Map.of("X-API-Key", ADMIN_KEY), "", 200).get("access_token").asText();
            adminTokenAt = System.currentTimeMillis();
        }
        // A reader polling while a backlog drains may meet the admin's read limit: it waits as Retry-After says.
        HttpResponse<String> r = request("GET", "/api/usage/daily?days=2", Map.of("Authorization", "Bearer " + adminToken), null);
        for (int waits = 0; r.statusCode() == 429 && waits < 5; waits++) {
            long seconds = r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L);
            Thread.sleep(Duration.ofSeconds(Math.min(Math.max(seconds, 1), 60)).toMillis());
            r = request("GET", "/api/usage/daily?days=2", Map.of("Authorization", "Bearer " + adminToken), null);
        }
        JsonNode daily = expect(r, "GET /api/usage/daily?days=2", 200);
        Map<String, Long> counts = new LinkedHashMap<>();
        daily.get("clients").forEach(c -> counts.put(c.get("client_id").asText(), c.get("total").asLong()));
        return counts;
    }

    /**
     * Waits until every dependency answers, nothing is queued or in flight, the dead-letter queue has
     * been redriven, and the counts hold still for two seconds; returns how many messages were redriven.
     */
    public long settle(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long redriven = 0;
        Map<String, Long> last = null;
        while (System.nanoTime() < deadline) {
            Readiness.Report report = runtime.readiness().check();
            Readiness.Component sqs = report.components().get("sqs");
            boolean up = report.components().get("dynamodb").status() == Readiness.State.ok && sqs.status() != Readiness.State.down;
            if (up && sqs.metrics().getOrDefault("dead_letters", 0L) > 0) {
                DeadLetterRedrive.Result r = new DeadLetterRedrive(runtime.sqs()).redrive(runtime.resource("HitsDeadLetterQueue"),
                        runtime.resource("HitsQueue"), Duration.ofMinutes(2));
                redriven += r.moved();
                continue;
            }
            if (up && sqs.metrics().getOrDefault("queued", 1L) == 0 && sqs.metrics().getOrDefault("in_flight", 1L) == 0) {
                Map<String, Long> now = counts();
                if (now.equals(last)) return redriven;
                last = now;
                ManagedProcess.sleep(2_000);
                continue;
            }
            last = null;
            ManagedProcess.sleep(500);
        }
        throw new IllegalStateException("the stack did not settle within " + timeout.toSeconds() + " s: "
                + runtime.readiness().check());
    }

    /** Sent / acknowledged / counted for a run, and every client whose count breaks the promise. */
    public record Verdict(long sent, long acknowledged, long unacknowledged, long counted, long redriven,
                          List<String> violations) {
        public String line(String label) {
            return String.format("%s: hits sent %d / acknowledged %d / counted %d (not acknowledged %d, redriven messages %d)%s",
                    label, sent, acknowledged, counted, unacknowledged, redriven,
                    violations.isEmpty() ? "" : " VIOLATIONS " + violations);
        }
    }

    public Verdict verify(LoadGenerator load, long redriven) throws IOException, InterruptedException {
        Map<String, Long> counts = counts();
        List<String> violations = new ArrayList<>();
        long counted = 0;
        for (var e : load.tallies().entrySet()) {
            LoadGenerator.Tally t = e.getValue();
            long c = counts.getOrDefault(e.getKey(), 0L);
            counted += c;
            // Every request acknowledged: the count must be exact. Otherwise a 503'd request may have landed.
            boolean allAcknowledged = t.unacknowledged() == 0;
            if (allAcknowledged ? c != t.acknowledged() : c < t.acknowledged() || c > t.acknowledged() + t.unacknowledged()) {
                violations.add(e.getKey() + ": acknowledged " + t.acknowledged() + ", not acknowledged "
                        + t.unacknowledged() + ", counted " + c + ", raw hits stored " + rawHits(e.getKey()));
            }
        }
        return new Verdict(load.sent(), load.acknowledged(), load.unacknowledged(), counted, redriven, violations);
    }

    /** The raw-hit items of a client (today and yesterday), read straight from the table: where a count went wrong. */
    long rawHits(String clientId) {
        Map<String, String> env = Map.of("AWS_ENDPOINT_URL_DYNAMODB", emulators.awsEndpoint(), "AWS_REGION", Emulators.REGION,
                "AWS_ACCESS_KEY_ID", "local", "AWS_SECRET_ACCESS_KEY", "local");
        try (var dynamo = dev.usagetracker.config.AwsClients.dynamo(dev.usagetracker.config.Config.from(env))) {
            long n = 0;
            for (int d = 0; d < 2; d++) {
                String pk = clientId + "#" + java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(d);
                n += dynamo.queryPaginator(q -> q.tableName(runtime.resource("HitsTable")).keyConditionExpression("pk = :pk")
                                .expressionAttributeValues(Map.of(":pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS(pk))))
                        .items().stream().mapToLong(i -> Long.parseLong(i.get("n").n())).sum();
            }
            return n;
        }
    }

    JsonNode send(String method, String path, Map<String, String> headers, String body, int expect)
            throws IOException, InterruptedException {
        return expect(request(method, path, headers, body), method + " " + path, expect);
    }

    private HttpResponse<String> request(String method, String path, Map<String, String> headers, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode expect(HttpResponse<String> r, String what, int status) throws IOException {
        if (r.statusCode() != status) throw new IllegalStateException(what + " answered " + r.statusCode() + ": " + r.body());
        return MAPPER.readTree(r.body());
    }

    @Override
    public void close() {
        try {
            resumeDynamo();
        } catch (RuntimeException ignored) {
            // moto may already be gone
        }
        runtime.close();
        sqsProxy.close();
        awsProxy.close();
        emulators.close();
    }
}
