package dev.usagetracker.bench;

import dev.usagetracker.App;
import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import dev.usagetracker.local.Emulators;
import dev.usagetracker.local.LocalRuntime;
import dev.usagetracker.local.ResourceBootstrap;
import dev.usagetracker.local.SamTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The local services a benchmark runs against, started once per benchmark: ElasticMQ, moto_server and
 * redis-server on free ports, with template.yaml's tables, queues and keys created under a prefix.
 */
final class BenchStack implements AutoCloseable {
    /**
     * Instead of the template's 180 s: a consumer call that the emulator timed out is delivered again after
     * 30 s, not 3 minutes (the redelivery is deduplicated; only the drain time changes).
     */
    static final int VISIBILITY_TIMEOUT_SECONDS = 30;

    /**
     * The limiter stays on the request path (its Redis calls are part of what is measured), but never refuses:
     * ingest counts requests, and its hits cap (a batch of n costs n) is as generous.
     */
    static final Map<String, String> GENEROUS_RATE_LIMITS = Map.of("RATE_LIMIT_INGEST", "100000000/1h",
            "RATE_LIMIT_INGEST_HITS", "100000000/1h",
            "RATE_LIMIT_READ", "100000000/1h", "RATE_LIMIT_REGISTER", "100000000/1h",
            "RATE_LIMIT_REGISTER_EMAIL", "100000000/1h", "RATE_LIMIT_REGISTER_GLOBAL", "100000000/1h");

    /**
     * SDK timeouts sized for the emulator under load (moto answers a Query in O(table size) and copies a
     * table per transaction item), not for DynamoDB: counts are what the benchmarks compare, not timings.
     */
    static Map<String, String> emulatorTimeoutsAnd(String... more) {
        Map<String, String> env = new HashMap<>(Map.of("AWS_SDK_ATTEMPT_TIMEOUT_MS", "30000", "AWS_SDK_CALL_TIMEOUT_MS", "60000",
                "AWS_MAX_ATTEMPTS", "2", "LOG_LEVEL", "WARN"));
        env.putAll(GENEROUS_RATE_LIMITS);
        for (int i = 0; i + 1 < more.length; i += 2) env.put(more[i], more[i + 1]);
        return env;
    }
    final Path root;
    final Emulators emulators;
    final SamTemplate template;
    final ResourceBootstrap resources;
    final String prefix;
    private final Map<String, String> base;
    private final DynamoDbClient dynamo;
    private final SqsClient sqs;
    private final KmsClient kms;
    private final App app;

    private BenchStack(Path root, String prefix) {
        this.root = root;
        this.prefix = prefix;
        // a directory per benchmark: the bench module's test JVMs run two of them side by side
        emulators = Emulators.start(root.resolve("bench/target/emulator-logs").resolve(prefix.replaceAll("-+$", "")), 0, 0, 0);
        base = Map.copyOf(emulators.clientEnvironment("bench"));
        Map<String, String> bootEnv = new HashMap<>(base);
        bootEnv.putAll(emulatorTimeoutsAnd());
        Config boot = Config.from(bootEnv);
        dynamo = AwsClients.dynamo(boot);
        sqs = AwsClients.sqs(boot);
        kms = AwsClients.kms(boot);
        template = SamTemplate.load(root.resolve("template.yaml"));
        Map<String, String> parameters = new HashMap<>(ResourceBootstrap.emulatedApiIds(template));
        parameters.put("Stage", "bench");
        parameters.put("RedisUrl", emulators.redisUrl());
        resources = new ResourceBootstrap(template, prefix, parameters)
                .create(kms, dynamo, sqs, VISIBILITY_TIMEOUT_SECONDS);
        Map<String, String> appEnv = new HashMap<>(bootEnv);
        appEnv.putAll(resources.environment(template.functions().getFirst()));
        app = new App(Config.from(appEnv), Clock.systemUTC());
    }

    static BenchStack start(String prefix) {
        return new BenchStack(projectRoot(), prefix);
    }

    static Path projectRoot() {
        return Path.of(System.getProperty("project.root", ".")).toAbsolutePath().normalize();
    }

    /** What a function container sees: endpoints, credentials, region, the template's variables resolved. */
    Map<String, String> functionEnvironment(SamTemplate.Function function) {
        Map<String, String> env = new TreeMap<>(base);
        env.putAll(resources.environment(function));
        env.put("AWS_LAMBDA_FUNCTION_NAME", function.logicalId());
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(function.memoryMb()));
        env.putAll(GENEROUS_RATE_LIMITS);
        return env;
    }

    SamTemplate.Function function(String logicalId) {
        return template.functions().stream().filter(f -> f.logicalId().equals(logicalId)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no function " + logicalId + " in template.yaml"));
    }

    /** The bench's own composition root against the same resources (setup, fills, direct writes). */
    App app() {
        return app;
    }

    DynamoDbClient dynamo() {
        return dynamo;
    }

    String table(String logicalId) {
        return resources.ref(logicalId);
    }

    /** The whole service in this JVM, on the same emulators and resources. */
    LocalRuntime runtime(Map<String, String> environment, String adminKey, Optional<Duration> batchWindow, boolean prewarm)
            throws Exception {
        return runtime(environment, adminKey, batchWindow, prewarm, prefix);
    }

    /** A runtime on tables of its own ({@code tablePrefix}), e.g. one per design compared in one run. */
    LocalRuntime runtime(Map<String, String> environment, String adminKey, Optional<Duration> batchWindow, boolean prewarm,
                         String tablePrefix) throws Exception {
        return LocalRuntime.start(new LocalRuntime.Options(root, "127.0.0.1", 0, Optional.of(emulators), environment,
                Optional.of(adminKey), batchWindow, VISIBILITY_TIMEOUT_SECONDS, 4, prewarm, tablePrefix));
    }

    /** FLUSHALL: no cached response, no counters, no {@code counters:ready} mark — every read goes to DynamoDB. */
    void flushRedis() {
        try (Socket s = sendToRedis("FLUSHALL", 5000)) {
            String reply = readLine(s.getInputStream());
            if (!reply.equals("+OK")) throw new IllegalStateException("FLUSHALL answered " + reply);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Redis's own per-command call counts ({@code INFO commandstats}): whatever the client, nothing escapes. */
    Map<String, Long> redisCommands() {
        Map<String, Long> calls = new TreeMap<>();
        try (Socket s = sendToRedis("INFO commandstats", 2000)) {
            InputStream in = s.getInputStream();
            String header = readLine(in);
            int length = Integer.parseInt(header.substring(1));
            byte[] body = in.readNBytes(length);
            for (String line : new String(body, StandardCharsets.UTF_8).split("\r\n")) {
                if (!line.startsWith("cmdstat_")) continue;
                String command = line.substring("cmdstat_".length(), line.indexOf(':'));
                if (command.equals("info")) continue;
                String value = line.substring(line.indexOf("calls=") + 6);
                calls.put(command, Long.parseLong(value.substring(0, value.indexOf(','))));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read redis INFO commandstats", e);
        }
        return calls;
    }

    /** One inline command on a connection of its own to the stack's redis-server (not through any client under test). */
    private Socket sendToRedis(String command, int timeoutMs) throws IOException {
        int port = Integer.parseInt(emulators.redisUrl().substring(emulators.redisUrl().lastIndexOf(':') + 1));
        Socket s = new Socket("127.0.0.1", port);
        try {
            s.setSoTimeout(timeoutMs);
            OutputStream out = s.getOutputStream();
            out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') if (c != '\r') sb.append((char) c);
        return sb.toString();
    }

    @Override
    public void close() {
        dynamo.close();
        sqs.close();
        kms.close();
        emulators.close();
    }
}
