package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.usagetracker.local.HttpJson.Reply;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The live dashboard as a person uses it, in headless Chromium (Debian's package) driven by
 * playwright-core (e2e/): sign in with an API key, see the chart, post a hit, watch the counter move
 * through the SSE stream (ticket flow), in the last 24 hours' chart and the top endpoints; then as the
 * admin, with the ranking and the endpoints of a client picked from the list. Screenshots land in
 * local/target/dashboard.png and dashboard-admin.png. Skipped,
 * saying why, only where Chromium, Node.js or e2e/node_modules is missing (scripts/test installs them).
 */
@ExtendWith(TestStack.Extension.class)
class DashboardE2EIT {
    static final String ADMIN_KEY = "dash-admin-key-0123456789";
    static final String STAGE = "dash-it";
    static final Path SCREENSHOT = TestStack.PROJECT_ROOT.resolve("local/target/dashboard.png");
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("Stage", STAGE, "RateLimitRegister", "off"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 20, 2, false, "dash-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void thePageIsServedFromTheRuntimeUnderAStrictContentSecurityPolicy() {
        HttpJson local = HttpJson.uncheckedFor(runtime.baseUrl());
        Reply page = local.get("/dashboard", Map.of());
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Content-Type")).startsWith("text/html");
        assertThat(page.header("Content-Security-Policy")).contains("default-src 'none'").contains("script-src 'self'")
                .contains("style-src 'self'").contains("connect-src 'self'").doesNotContain("unsafe");
        // nothing inline that the policy would block, nothing from elsewhere
        assertThat(page.body()).doesNotContain("<style").doesNotContain("style=").doesNotContain("onclick")
                .doesNotContainPattern("<script>").doesNotContain("http://").doesNotContain("https://");
        assertThat(local.get("/dashboard/app.js", Map.of()).header("Content-Type")).startsWith("text/javascript");
        assertThat(local.get("/dashboard/app.css", Map.of()).status()).isEqualTo(200);
        assertThat(local.get("/dashboard/../pom.xml", Map.of()).status()).isEqualTo(404);
        assertThat(local.get("/dashboard/nothing.js", Map.of()).status()).isEqualTo(404);
        // HEAD answers as GET does, without the body (link checkers and uptime probes use it)
        Reply head = local.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(runtime.baseUrl() + "/dashboard"))
                .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()).build());
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Content-Type")).startsWith("text/html");
        assertThat(head.body()).isEmpty();
    }

    @Test
    void aPostedHitAppearsOnTheDashboardThroughTheLiveStream() throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        Path e2e = TestStack.PROJECT_ROOT.resolve("e2e");
        assumeTrue(Files.isExecutable(chromium), "skipped: no Chromium at " + chromium
                + " (scripts/test installs Debian's 'chromium' package; set CHROMIUM to use another)");
        assumeTrue(Files.isDirectory(e2e.resolve("node_modules/playwright-core")),
                "skipped: e2e/node_modules is missing (scripts/test runs 'npm ci' in e2e/)");
        assumeTrue(NodeProcess.available(), "skipped: Node.js is not installed");

        String id = "dash-" + UUID.randomUUID().toString().substring(0, 8);
        Reply registered = api.post("/api/register", Map.of("name", "Dashboard " + id, "email", id + "@example.com",
                "client_id", id), Map.of());
        assertThat(registered.status()).isEqualTo(201);
        String key = registered.json().get("api_key").asText();
        Files.deleteIfExists(SCREENSHOT);

        ProcessBuilder pb = new ProcessBuilder("node", "dashboard.mjs").directory(e2e.toFile()).redirectErrorStream(true);
        pb.environment().putAll(Map.of("BASE_URL", runtime.baseUrl(), "API_KEY", key, "ADMIN_KEY", ADMIN_KEY,
                "SCREENSHOT", SCREENSHOT.toString(), "CHROMIUM", chromium.toString()));
        long started = System.nanoTime();
        Process node = pb.start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> NodeProcess.read(node, output));
        boolean finished = node.waitFor(150, TimeUnit.SECONDS);
        if (!finished) node.destroyForcibly();
        reader.join(5_000);
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertThat(finished).as("the browser run finished in time; output:\n" + String.join("\n", output)).isTrue();
        assertThat(node.exitValue()).as(String.join("\n", output)).isZero();
        assertThat(output).anyMatch(l -> l.startsWith("dashboard-ok "));
        assertThat(output).as("the hourly chart and the top endpoints showed the hit").contains("analytics-shown");
        assertThat(SCREENSHOT).isRegularFile();
        assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
        assertThat(SCREENSHOT.resolveSibling("dashboard-admin.png")).isRegularFile();
        System.out.printf("dashboard in headless Chromium: sign-in, live stream, posted hit shown in %d ms; screenshot %s%n",
                ms, SCREENSHOT);
    }
}
