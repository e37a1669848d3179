package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The TypeScript SDK (sdk/typescript) end to end: {@code node --test test/e2e/express-outage.test.mjs} runs an
 * Express app with the SDK's middleware against a {@link ChaosStack}; 20,000 requests from concurrent callers
 * while this test, told by the Node side through a small control endpoint, cuts SQS and DynamoDB off (the
 * runtime answers 503), heals them and restarts redis-server. Afterwards /api/usage/daily must count exactly
 * the hits the SDK saw acknowledged, and its stats must add up. Skipped, saying why, where Node.js or the
 * SDK's build (scripts/test runs npm ci and npm run build in sdk/typescript first) is missing.
 */
class TypeScriptSdkIT {
    static final Path SDK = TestStack.PROJECT_ROOT.resolve("sdk/typescript");

    @Test
    void expressAppReportsEveryServedRequestThroughA503OutageAndARedisRestart() throws Exception {
        assumeTrue(NodeProcess.available(), "skipped: Node.js is not installed (scripts/test installs it)");
        assumeTrue(Files.isRegularFile(SDK.resolve("dist/index.js")),
                "skipped: sdk/typescript/dist is missing (scripts/test runs 'npm ci && npm run build' there)");
        assumeTrue(Files.isDirectory(SDK.resolve("node_modules/express")),
                "skipped: sdk/typescript/node_modules is missing (scripts/test runs 'npm ci' there)");

        // Own emulators, first in a fresh JVM: SQS calls get the room a cold ElasticMQ needs on a loaded machine
        // (the stack's resources are created through the runtime's clients).
        ChaosStack stack = ChaosStack.start(TestStack.PROJECT_ROOT, TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/ts-sdk"), 1, 2,
                Map.of("AWS_SDK_ATTEMPT_TIMEOUT_MS_SQS", "5000", "AWS_SDK_CALL_TIMEOUT_MS_SQS", "15000"));
        List<String> faults = new CopyOnWriteArrayList<>();
        HttpServer control = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        try {
            LoadGenerator.Client client = stack.register("ts-sdk", 1, true).getFirst();
            Emulators emulators = stack.runtime().emulators().orElseThrow();
            control.createContext("/fault/", exchange -> {
                String fault = exchange.getRequestURI().getPath().substring("/fault/".length());
                int status = 200;
                try {
                    switch (fault) {
                        case "cut" -> { stack.cutSqs(); stack.cutDynamo(); }
                        case "restore" -> { stack.restoreDynamo(); stack.restoreSqs(); }
                        case "restart-redis" -> {
                            emulators.redis().kill();
                            ManagedProcess.sleep(1_000);
                            emulators.startRedis();
                        }
                        default -> status = 404;
                    }
                } catch (RuntimeException e) {
                    status = 500;
                }
                if (status == 200) faults.add(fault);
                byte[] body = fault.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            control.start();

            Path result = Files.createTempFile("ts-sdk-e2e", ".json");
            List<String> output = runNodeTest("test/e2e/express-outage.test.mjs", Map.of("BASE_URL", stack.baseUrl(),
                    "API_KEY", client.apiKey(), "CONTROL_URL", "http://127.0.0.1:" + control.getAddress().getPort(),
                    "RESULT_FILE", result.toString()), 10);
            assertThat(faults).containsExactly("cut", "restore", "restart-redis");

            JsonNode stats = new ObjectMapper().readTree(Files.readString(result));
            Files.deleteIfExists(result);
            long acknowledged = stats.get("acknowledged").asLong();
            assertThat(stats.get("recorded").asLong()).isEqualTo(20_000);
            assertThat(stats.get("recorded").asLong()).isEqualTo(acknowledged + stats.get("pending").asLong()
                    + stats.get("dropped").asLong() + stats.get("rejected").asLong());

            long redriven = stack.settle(Duration.ofSeconds(180));
            long counted = stack.counts().getOrDefault(client.clientId(), 0L);
            System.out.printf("TypeScript SDK e2e: %s; /api/usage/daily counts %d (redriven messages %d)%n",
                    output.stream().filter(l -> l.contains("sdk e2e:")).findFirst().orElse(stats.toString()).strip(),
                    counted, redriven);
            assertThat(counted).as("/api/usage/daily counts exactly the hits the SDK saw acknowledged").isEqualTo(acknowledged);
        } finally {
            control.stop(0);
            stack.close();
        }
    }

    /**
     * DESIGN.md §2b: an Express app behind the middleware and the real tracker; the raw hits the stack stored
     * carry the method, the status the app answered (200, 201, 404 for no route, 500 for a route that throws)
     * and a duration (at least the 20 ms the slow route waits).
     */
    @Test
    @org.junit.jupiter.api.extension.ExtendWith(TestStack.Extension.class)
    void expressAppReportsTheStatusItAnsweredAndItsDuration(TestStack stack) throws Exception {
        assumeTrue(NodeProcess.available(), "skipped: Node.js is not installed (scripts/test installs it)");
        assumeTrue(Files.isRegularFile(SDK.resolve("dist/index.js")),
                "skipped: sdk/typescript/dist is missing (scripts/test runs 'npm ci && npm run build' there)");
        assumeTrue(Files.isDirectory(SDK.resolve("node_modules/express")),
                "skipped: sdk/typescript/node_modules is missing (scripts/test runs 'npm ci' there)");
        try (LocalRuntime runtime = UsageTrackingFilterIT.runtime(stack, "tsst-", Map.of())) {
            HttpJson api = new HttpJson(runtime.baseUrl());
            String[] client = UsageTrackingFilterIT.register(api, "tst-").split(" ");
            runNodeTest("test/e2e/express-statuses.test.mjs", Map.of("BASE_URL", runtime.baseUrl(), "API_KEY", client[1]), 3);

            List<JsonNode> stored = UsageTrackingFilterIT.poll(() -> UsageTrackingFilterIT.rawHitNodes(stack, runtime, client[0]),
                    l -> l.size() >= 4);
            // Express's ":id", whether or not the server has canonicalised it to "{id}" (DESIGN.md §2b "One route, one name")
            assertThat(stored.stream().map(h -> h.get("m").asText() + " " + h.get("ep").asText().replaceAll(":(\\w+)", "{$1}")
                    + " " + h.get("s").asInt()))
                    .containsExactlyInAnyOrder("GET /products/{id} 200", "POST /orders 201", "GET /no/such/route 404", "GET /fail/{id} 500");
            assertThat(stored).allSatisfy(h -> assertThat(h.get("d").asDouble()).isBetween(0.0, 60_000.0));
            assertThat(stored.stream().filter(h -> h.get("s").asInt() == 200))
                    .allSatisfy(h -> assertThat(h.get("d").asDouble()).as("the route waits 20 ms").isGreaterThanOrEqualTo(19.0));
        }
    }

    /** Runs one of the SDK's node tests with {@code env}; it must pass within {@code minutes}. Its output lines. */
    static List<String> runNodeTest(String file, Map<String, String> env, int minutes) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", file)
                .directory(SDK.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process node = pb.start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> NodeProcess.read(node, output));
        boolean finished = node.waitFor(minutes, TimeUnit.MINUTES);
        if (!finished) node.destroyForcibly();
        reader.join(5_000);
        String log = String.join("\n", output);
        assertThat(finished).as("the node test finished in time; output:\n" + log).isTrue();
        assertThat(node.exitValue()).as(log).isZero();
        return output;
    }
}
