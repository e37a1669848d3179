package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * The Python SDK (sdk/python) against the real local runtime: {@code /usr/bin/python3 -m pytest
 * tests/integration} runs a FastAPI app under uvicorn, a Flask app and a Django app with the SDK's
 * middlewares, a few thousand requests each, and checks {@code /api/usage/daily} and
 * {@code /api/usage/endpoints} count exactly what was served, by route template; then a fault run while
 * this test, told through a small control endpoint, cuts SQS and DynamoDB off (ingest answers 503),
 * restarts redis-server and restarts the runtime on its port, with recorded == acknowledged == counted.
 * The control endpoint's {@code /settle} waits for the queue to drain (redriving the DLQ if needed), as
 * {@link SdkFaultIT} does. pytest's JUnit XML must show its tests ran and passed: no tests is a failure.
 * Skipped, saying why, where Debian's python3 or a framework is missing (scripts/test installs them).
 */
class PythonSdkIT {
    static final Path SDK = TestStack.PROJECT_ROOT.resolve("sdk/python");
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final String ADMIN_KEY = "python-sdk-admin-key-0123456789";

    static Emulators emulators;
    static FaultProxy sqsProxy;
    static FaultProxy awsProxy;
    static volatile LocalRuntime runtime;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "skipped: /usr/bin/python3 is missing");
        assumeTrue(python("import fastapi, flask, django, uvicorn, httpx, pytest") == 0,
                "skipped: python3-fastapi, -flask, -django, -uvicorn, -httpx or -pytest is missing (scripts/test installs them)");
        emulators = Emulators.start(TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/python-sdk"), 0, 0, 0);
        sqsProxy = new FaultProxy("sqs", URI.create(emulators.sqsEndpoint()).getPort());
        awsProxy = new FaultProxy("moto", URI.create(emulators.awsEndpoint()).getPort());
        port = ManagedProcess.freePort();
        runtime = startRuntime();
    }

    /** The same port, emulators, resource prefix and settings every time: a restart of the same deployment. */
    static LocalRuntime startRuntime() throws Exception {
        return SdkFaultIT.startRuntime(emulators, sqsProxy, awsProxy, port, ADMIN_KEY, "pysdk-");
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
        if (sqsProxy != null) sqsProxy.close();
        if (awsProxy != null) awsProxy.close();
        if (emulators != null) emulators.close();
    }

    @Test
    void fastApiFlaskAndDjangoAppsAreCountedExactlyByRouteTemplateAndThroughFaults() throws Exception {
        String base = "http://127.0.0.1:" + port;
        List<String> faults = new CopyOnWriteArrayList<>();
        HttpServer control = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        control.createContext("/fault/", exchange -> {
            String fault = exchange.getRequestURI().getPath().substring("/fault/".length());
            int status = 200;
            try {
                switch (fault) {
                    case "cut" -> { sqsProxy.cut(); awsProxy.cut(); }
                    case "restore" -> { awsProxy.restore(); sqsProxy.restore(); }
                    case "restart-redis" -> {
                        emulators.redis().kill();
                        ManagedProcess.sleep(1_000);
                        emulators.startRedis();
                    }
                    case "restart-runtime" -> {
                        runtime.close();
                        ManagedProcess.sleep(1_000);
                        runtime = startRuntime();
                    }
                    default -> status = 404;
                }
            } catch (Exception e) {
                status = 500;
            }
            if (status == 200) faults.add(fault);
            reply(exchange, status, fault);
        });
        control.createContext("/settle", exchange -> {
            String apiKey = query(exchange.getRequestURI().getRawQuery()).get("api_key");
            try {
                long counted = SdkFaultIT.settle(runtime, new HttpJson(base), apiKey, Duration.ofSeconds(180));
                reply(exchange, 200, Long.toString(counted));
            } catch (Exception | AssertionError e) {
                reply(exchange, 500, String.valueOf(e.getMessage()));
            }
        });
        control.start();
        Path results = SDK.resolve("test-results-integration.xml");
        try {
            Files.deleteIfExists(results);
            ProcessBuilder pb = new ProcessBuilder(PYTHON.toString(), "-m", "pytest", "-v", "-s", "-p", "no:cacheprovider",
                    "tests/integration", "--junitxml=" + results)
                    .directory(SDK.toFile()).redirectErrorStream(true);
            pb.environment().put("USAGE_TRACKER_BASE_URL", base);
            pb.environment().put("USAGE_TRACKER_ADMIN_KEY", ADMIN_KEY);
            pb.environment().put("USAGE_TRACKER_CONTROL_URL", "http://127.0.0.1:" + control.getAddress().getPort());
            pb.environment().put("PYTHONPATH", "src:.");
            pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            Process python = pb.start();
            List<String> output = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofVirtual().start(() -> NodeProcess.read(python, output));
            boolean finished = python.waitFor(15, TimeUnit.MINUTES);
            if (!finished) python.destroyForcibly();
            reader.join(5_000);
            String log = String.join("\n", output);
            System.out.println(output.stream().filter(l -> l.contains("python sdk:")).reduce("", (a, b) -> a + b + "\n").strip());
            assertThat(finished).as("pytest finished in time; output:\n" + log).isTrue();
            assertThat(python.exitValue()).as(log).isZero();
            assertThat(Files.isRegularFile(results)).as("pytest wrote its JUnit XML\n" + log).isTrue();
            Element suite = (Element) DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(results.toFile())
                    .getElementsByTagName("testsuite").item(0);
            assertThat(Integer.parseInt(suite.getAttribute("tests"))).as("tests that ran\n" + log).isGreaterThanOrEqualTo(4);
            assertThat(Integer.parseInt(suite.getAttribute("failures")) + Integer.parseInt(suite.getAttribute("errors"))).as(log).isZero();
            assertThat(Integer.parseInt(suite.getAttribute("skipped"))).as("nothing skipped\n" + log).isZero();
            assertThat(faults).containsExactly("restart-redis", "cut", "restore", "restart-runtime");
        } finally {
            control.stop(0);
        }
    }

    static int python(String code) {
        try {
            Process p = new ProcessBuilder(PYTHON.toString(), "-c", code).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null) return params;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) params.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return params;
    }

    static void reply(HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
