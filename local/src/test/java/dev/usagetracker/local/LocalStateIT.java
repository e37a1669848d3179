package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local runtime as {@code ./scripts/dev} runs it — its own process, its emulators' data in a state
 * directory — stopped and started again on the same state (README, "Local state"): after SIGTERM the same
 * API key works and /daily, /endpoints, the plans and the webhook are as before; hits acknowledged while
 * the consumer held them are handed back at the stop and counted once right after the restart, not after
 * their visibility timeout (ElasticMQ's H2 store is closed after the consumer, not by H2's own shutdown hook
 * before it), and no stop logs a closed database; after kill -9 nothing older than the stated bound is lost
 * and nothing is counted twice; {@code --fresh} starts empty. Optional bodies sent as JSON
 * {@code null} (openapi-generator's Java client) are accepted. A temporary project root (links to this
 * checkout) and state directory: nothing here reads or writes the developer's .local/.
 */
class LocalStateIT {
    static final String ADMIN_KEY = "local-state-it-admin-key-0123456789";
    static final Path LOGS = TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/local-state");
    static final Duration KILL_BOUND = Duration.ofSeconds(3);   // README: a kill -9 loses at most the last few seconds
    static final int VISIBILITY_SECONDS = 5;
    static final int HELD_VISIBILITY_SECONDS = 600;

    static Path root;
    static Path state;
    static int run;

    @BeforeAll
    static void projectRoot() throws IOException {
        root = Files.createTempDirectory("local-state-it-root");
        state = root.resolve("state");
        try (Stream<Path> entries = Files.list(TestStack.PROJECT_ROOT)) {
            for (Path entry : entries.filter(p -> !p.getFileName().toString().equals(".local")).toList()) {
                Files.createSymbolicLink(root.resolve(entry.getFileName()), entry);
            }
        }
        Files.createDirectories(LOGS);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (root == null) return;
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path p : tree.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Test
    void theRuntimeKeepsItsStateAcrossRestartsLosesAtMostTheBoundOnKillAndStartsEmptyWhenFresh() throws Exception {
        Map<String, String> before = new HashMap<>();
        String apiKey;
        String clientId;
        // 1. Data of every kind, settled; optional bodies as JSON null.
        try (Runtime r = Runtime.start(0.2)) {
            HttpJson api = r.api();
            JsonNode client = api.register("state");
            apiKey = client.get("api_key").asText();
            clientId = client.get("client_id").asText();
            Map<String, String> key = Map.of("X-API-Key", apiKey);
            ingest(api, key, "/api/orders/17", 20);
            ingest(api, key, "/api/users/5", 10);
            String admin = adminToken(api);
            assertThat(api.put("/api/plans/pro", Map.of("monthly_quota", 100_000, "alert_thresholds", List.of(50, 90)),
                    HttpJson.bearer(admin)).status()).isEqualTo(200);
            Reply assigned = api.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(r.baseUrl() + "/api/clients/" + clientId))
                    .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"plan\":\"pro\"}"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + admin).build());
            assertThat(assigned.status()).as(assigned.body()).isEqualTo(200);
            assertThat(api.put("/api/clients/me/webhook", Map.of("url", "http://127.0.0.1:9/usage-hook", "events", List.of("usage.threshold")),
                    key).status()).isEqualTo(200);

            assertThat(api.post("/api/token", "application/json", "null", key).status()).as("token, null body").isEqualTo(200);
            assertThat(api.post("/api/token", "application/json", "{}", key).status()).as("token, {}").isEqualTo(200);
            assertThat(api.post("/api/clients/me/webhook/test", "application/json", "null", key).status()).as("webhook test, null body").isEqualTo(202);
            JsonNode other = api.register("state-rotate");
            Reply rotated = api.post("/api/keys/rotate", "application/json", "null", Map.of("X-API-Key", other.get("api_key").asText()));
            assertThat(rotated.status()).as("rotate, null body: " + rotated.body()).isEqualTo(200);

            String token = api.token(apiKey);
            Await.until(Duration.ofSeconds(60), "30 hits counted", () -> total(api, token) == 30);
            before.putAll(snapshot(api, token, admin));
        }

        // 2. Stopped with SIGTERM: everything as before; hits the consumer holds (a batch window longer than the run)
        //    survive. Received under a visibility timeout far longer than step 3 waits: only a hand-back at the stop
        //    makes them visible at once after the restart.
        try (Runtime r = Runtime.start(600, HELD_VISIBILITY_SECONDS)) {
            HttpJson api = r.api();
            String token = api.token(apiKey);                       // the key still works: KMS keys and the HMAC key survived
            assertThat(snapshot(api, token, adminToken(api))).isEqualTo(before);
            ingest(api, Map.of("X-API-Key", apiKey), "/api/orders/18", 7);
            HttpJson health = HttpJson.uncheckedFor(r.baseUrl());   // the runtime's own route, not the API's
            Await.until(Duration.ofSeconds(30), "the consumer holds the 7 hits", () -> {
                JsonNode sqs = health.get("/health/ready", Map.of()).json().at("/components/sqs/metrics");
                return sqs.path("queued").asLong(-1) == 0 && sqs.path("in_flight").asLong() >= 1;
            });
            assertThat(total(api, token)).as("held by the consumer, not counted yet").isEqualTo(30);
        }

        // 3. The held hits are counted once after the restart, long before their visibility timeout; then a kill -9.
        long acknowledgedEarly;
        try (Runtime r = Runtime.start(0.2)) {
            HttpJson api = r.api();
            String token = api.token(apiKey);
            Await.until(Duration.ofSeconds(90), "the 7 held hits counted: handed back at the stop (else they return "
                    + HELD_VISIBILITY_SECONDS + " s after they were received)", () -> total(api, token) == 37);
            acknowledgedEarly = 37 + ingest(api, Map.of("X-API-Key", apiKey), "/api/orders/19", 10);
            Await.until(Duration.ofSeconds(60), "10 more counted", () -> total(api, token) == acknowledgedEarly);
            Thread.sleep(KILL_BOUND.toMillis());
            ingest(api, Map.of("X-API-Key", apiKey), "/api/orders/20", 5);   // within the bound: may be lost, never doubled
            r.kill();
        }

        // 4. After kill -9: what was acknowledged before the bound is there, nothing counted twice.
        try (Runtime r = Runtime.start(0.2)) {
            HttpJson api = r.api();
            String token = api.token(apiKey);
            Await.until(Duration.ofSeconds(120), "at least the hits acknowledged before the bound", () -> total(api, token) >= acknowledgedEarly);
            Thread.sleep(3_000);   // anything that was coming (a message back from its visibility timeout) has come
            long total = total(api, token);
            System.out.printf("LocalStateIT: after kill -9, %d of the 5 hits acknowledged in the last moment were counted%n", total - acknowledgedEarly);
            assertThat(total).isBetween(acknowledgedEarly, acknowledgedEarly + 5);
            Map<String, String> after = snapshot(api, token, adminToken(api));
            assertThat(after.get("plans")).isEqualTo(before.get("plans"));
            assertThat(after.get("webhook")).isEqualTo(before.get("webhook"));
        }

        // 5. --fresh: nothing of the above.
        try (Runtime r = Runtime.start(0.2, "--fresh")) {
            HttpJson api = r.api();
            assertThat(api.post("/api/token", "application/json", "", Map.of("X-API-Key", apiKey)).status()).isEqualTo(401);
            Reply plans = api.get("/api/plans", HttpJson.bearer(adminToken(api)));
            assertThat(plans.json().get("plans").findValuesAsText("name")).containsExactly("default");
            Reply clients = api.get("/api/clients", HttpJson.bearer(adminToken(api)));
            assertThat(clients.json().get("clients").findValuesAsText("client_id")).containsExactly("admin");
        }
    }

    /** Sends {@code n} hits as one batch; asserts the 202 and returns n. */
    static long ingest(HttpJson api, Map<String, String> key, String endpoint, int n) {
        List<Map<String, String>> hits = new ArrayList<>();
        for (int i = 0; i < n; i++) hits.add(Map.of("ip", "203.0.113." + (i + 1), "endpoint", endpoint));
        Reply r = api.post("/api/logs", Map.of("hits", hits), key);
        assertThat(r.status()).as(r.body()).isEqualTo(202);
        return n;
    }

    static String adminToken(HttpJson api) {
        return api.token(ADMIN_KEY);
    }

    static long total(HttpJson api, String token) {
        Reply r = api.get("/api/usage/daily", HttpJson.bearer(token));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("clients").get(0).get("total").asLong();
    }

    /** What must survive a restart, as the API shows it. */
    static Map<String, String> snapshot(HttpJson api, String token, String adminToken) {
        Map<String, String> s = new HashMap<>();
        JsonNode daily = api.get("/api/usage/daily", HttpJson.bearer(token)).json();
        s.put("daily", daily.get("clients").toString());
        s.put("endpoints", api.get("/api/usage/endpoints", HttpJson.bearer(token)).json().get("endpoints").toString());
        s.put("plans", api.get("/api/plans", HttpJson.bearer(adminToken)).json().get("plans").toString());
        JsonNode webhook = api.get("/api/clients/me/webhook", HttpJson.bearer(token)).json();
        s.put("webhook", List.of(webhook.get("url"), webhook.get("events"), webhook.get("scope"), webhook.get("created_at")).toString());
        JsonNode me = api.get("/api/clients/me", HttpJson.bearer(token)).json();
        s.put("me", List.of(me.get("client_id"), me.get("email"), me.get("plan"), me.get("created_at")).toString());
        return s;
    }

    /** {@code java … LocalRuntime} as scripts/dev starts it, on free ports, with this test's root and state. */
    record Runtime(Process process, String baseUrl, Path log) implements AutoCloseable {
        static Runtime start(double batchWindowSeconds, String... args) throws Exception {
            return start(batchWindowSeconds, VISIBILITY_SECONDS, args);
        }

        static Runtime start(double batchWindowSeconds, int visibilityTimeoutSeconds, String... args) throws Exception {
            int port = ManagedProcess.freePort();
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dproject.root=" + root,
                    "-cp", TestStack.PROJECT_ROOT.resolve("local/target/classes") + java.io.File.pathSeparator
                            + TestStack.PROJECT_ROOT.resolve("local/target/lib") + "/*",
                    "dev.usagetracker.local.LocalRuntime"));
            command.addAll(List.of(args));
            Path log = LOGS.resolve("run-" + (++run) + ".log");
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            Map<String, String> env = pb.environment();
            env.put("PORT", Integer.toString(port));
            env.put("HTTPS_PORT", "-1");
            env.put("WS_PORT", "0");
            env.put("ADMIN_API_KEY", ADMIN_KEY);
            env.put("LOCAL_STATE_DIR", state.toString());
            env.put("LOCAL_BATCH_WINDOW_SECONDS", Double.toString(batchWindowSeconds));
            env.put("LOCAL_VISIBILITY_TIMEOUT_SECONDS", Integer.toString(visibilityTimeoutSeconds));
            env.put("LOCAL_MAX_CONCURRENCY", "2");
            // As ./scripts/dev runs it: a loopback webhook receiver is allowed (the runtime alone is strict).
            env.put("WEBHOOK_ALLOW_PRIVATE", "true");
            env.put("LOCAL_PREWARM", "false");
            env.put("METRICS_OUTPUT", "off");
            // The waits below read /daily every 20 ms, far beyond the read limit (60/1m); reads are not under test here.
            env.put("RateLimitRead", "off");
            env.keySet().removeIf(k -> k.startsWith("AWS_ENDPOINT_URL"));
            Process process = pb.start();
            Runtime runtime = new Runtime(process, "http://127.0.0.1:" + port, log);
            try {
                Await.until(Duration.ofSeconds(240), "the runtime of run " + run + " ready (" + log + ")", () -> {
                    if (!process.isAlive()) throw new AssertionError("the runtime exited with " + process.exitValue()
                            + "; see " + log);
                    return Emulators.httpOk(runtime.baseUrl + "/health/ready");
                });
            } catch (AssertionError e) {
                runtime.close();
                throw e;
            }
            return runtime;
        }

        HttpJson api() {
            return new HttpJson(baseUrl);
        }

        /** kill -9 of the runtime's JVM alone, as a crash: its emulator processes are left as they are. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        /**
         * SIGTERM, as Ctrl-C or a service manager stops it; the shutdown hook saves and stops the emulators, ElasticMQ's
         * H2 store last of ElasticMQ, so nothing the stop writes to the queues (a batch handed back) meets a closed one.
         */
        @Override
        public void close() throws Exception {
            if (!process.isAlive()) return;
            long sent = System.nanoTime();
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the runtime did not stop within 60 s of SIGTERM");
            }
            System.out.printf("LocalStateIT: %s stopped %d ms after SIGTERM%n", log.getFileName(), (System.nanoTime() - sent) / 1_000_000);
            assertThat(Files.readString(log)).as("the log of the run just stopped (" + log + ")").doesNotContain("Database is already closed");
        }
    }
}
