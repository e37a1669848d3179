package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.client.UsageTracker;
import dev.usagetracker.client.servlet.TrustedProxies;
import dev.usagetracker.client.servlet.UsageTrackingFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The servlet filter in an embedded Jetty (Servlet 6.0): a tiny app's requests are counted by the real
 * stack under their route template (where the app exposes one, as Spring MVC does in a request
 * attribute) or their path, and from the client address that the trusted-proxy rule allows.
 */
@ExtendWith(TestStack.Extension.class)
class UsageTrackingFilterIT {
    static final ObjectMapper MAPPER = new ObjectMapper();

    /** A handler that names its route the way Spring MVC does, e.g. {@code /users/{id}}. */
    static HttpServlet app(String routeTemplate) {
        return new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                if (routeTemplate != null) req.setAttribute(UsageTrackingFilter.SPRING_BEST_MATCHING_PATTERN, routeTemplate);
                resp.setContentType("text/plain");
                resp.getWriter().write("ok");
            }
        };
    }

    static Server jetty(UsageTrackingFilter filter, String prefix) throws Exception {
        Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
        ServletContextHandler ctx = new ServletContextHandler();
        ctx.setContextPath("/");
        ctx.addServlet(new ServletHolder(app(prefix + "/users/{id}")), prefix + "/users/*");
        ctx.addServlet(new ServletHolder(app(null)), prefix + "/plain/*");
        ctx.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
        server.setHandler(ctx);
        server.start();
        return server;
    }

    static int port(Server server) {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    @Test
    void requestsAreCountedWithTheirRouteTemplateAndTheClientAddressTheProxyRuleAllows(TestStack stack) throws Exception {
        try (LocalRuntime runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("RateLimitRegister", "1000/1m"), Optional.of("sdk-filter-admin-key-0123456789"),
                Optional.of(Duration.ofMillis(200)), 2, 2, false, "sdkflt-"))) {
            HttpJson api = new HttpJson(runtime.baseUrl());
            String clientId = "flt-" + UUID.randomUUID().toString().substring(0, 8);
            HttpJson.Reply reg = api.post("/api/register", Map.of("name", "Filter app", "email", clientId + "@filter.example",
                    "client_id", clientId), Map.of());
            assertThat(reg.status()).as(reg.body()).isEqualTo(201);
            UsageTracker tracker = UsageTracker.builder(URI.create(runtime.baseUrl()), reg.json().get("api_key").asText())
                    .flushInterval(Duration.ofMillis(200)).build();
            // behind a proxy on loopback: X-Forwarded-For is believed
            Server proxied = jetty(new UsageTrackingFilter(tracker, TrustedProxies.of("127.0.0.1/32")), "");
            // exposed directly: whatever X-Forwarded-For says is ignored
            Server direct = jetty(new UsageTrackingFilter(tracker), "/direct");
            try {
                HttpClient http = HttpClient.newHttpClient();
                get(http, port(proxied), "/users/42?expand=orders", "203.0.113.50");
                get(http, port(proxied), "/plain/report", "198.51.100.9, 203.0.113.77"); // the client wrote the first itself
                get(http, port(proxied), "/plain/none", null);
                get(http, port(direct), "/direct/users/7", "203.0.113.50");
                get(http, port(direct), "/direct/plain/x", null);
                tracker.flush().get(30, TimeUnit.SECONDS);
            } finally {
                proxied.stop();
                direct.stop();
                tracker.close();
            }
            UsageTracker.Stats s = tracker.stats();
            assertThat(s.recorded()).isEqualTo(5);
            assertThat(s.acknowledged()).as(s.toString()).isEqualTo(5);
            assertThat(s.pending()).isZero();

            List<String> expected = List.of("203.0.113.50 /users/{id}", "203.0.113.77 /plain/report", "127.0.0.1 /plain/none",
                    "127.0.0.1 /direct/users/{id}", "127.0.0.1 /direct/plain/x");
            List<String> stored = poll(() -> rawHits(stack, runtime, clientId), l -> l.size() >= 5);
            assertThat(stored).containsExactlyInAnyOrderElementsOf(expected);
            String token = LocalRuntimeE2EIT.token(api, reg.json().get("api_key").asText());
            JsonNode daily = poll(() -> api.get("/api/usage/daily?days=1", Map.of("Authorization", "Bearer " + token)).json(),
                    d -> d.at("/clients/0/total").asLong() == 5);
            assertThat(daily.at("/clients/0/total").asLong()).isEqualTo(5);
        }
    }

    /** An app whose routes answer 200, 201 and 500 (the servlet throws); what no servlet matches is Jetty's 404. */
    static Server statusApp(UsageTrackingFilter filter) throws Exception {
        Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
        ServletContextHandler ctx = new ServletContextHandler();
        ctx.setContextPath("/");
        ctx.addServlet(new ServletHolder(new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                req.setAttribute(UsageTrackingFilter.SPRING_BEST_MATCHING_PATTERN, "/users/{id}");
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                resp.getWriter().write("ok");
            }

            @Override
            protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                req.setAttribute(UsageTrackingFilter.SPRING_BEST_MATCHING_PATTERN, "/users/{id}");
                resp.setStatus(201);
                resp.getWriter().write("created");
            }
        }), "/users/*");
        ctx.addServlet(new ServletHolder(new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
                throw new IllegalStateException("the app failed");
            }
        }), "/boom");
        ctx.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
        server.setHandler(ctx);
        server.start();
        return server;
    }

    static LocalRuntime runtime(TestStack stack, String prefix, Map<String, String> env) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("RateLimitRegister", "1000/1m");
        return LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), all, Optional.of("sdk-filter-admin-key-0123456789"),
                Optional.of(Duration.ofMillis(200)), 2, 2, false, prefix));
    }

    static String register(HttpJson api, String prefix) throws Exception {
        String clientId = prefix + UUID.randomUUID().toString().substring(0, 8);
        HttpJson.Reply reg = api.post("/api/register", Map.of("name", "Filter app", "email", clientId + "@filter.example",
                "client_id", clientId), Map.of());
        assertThat(reg.status()).as(reg.body()).isEqualTo(201);
        return clientId + " " + reg.json().get("api_key").asText();
    }

    /**
     * DESIGN.md §2b: the filter records the method, the status the app answered and the time it took, and
     * the stack stores them with the hit; a request no route matched is recorded under its path with its
     * 404, or left out with skipUnmatched.
     */
    @Test
    void theStatusTheAppAnsweredAndItsDurationAreStoredWithTheHit(TestStack stack) throws Exception {
        try (LocalRuntime runtime = runtime(stack, "sdkst-", Map.of())) {
            HttpJson api = new HttpJson(runtime.baseUrl());
            String[] client = register(api, "fst-").split(" ");
            UsageTracker tracker = UsageTracker.builder(URI.create(runtime.baseUrl()), client[1])
                    .flushInterval(Duration.ofMillis(200)).build();
            Server app = statusApp(new UsageTrackingFilter(tracker));
            Server quiet = statusApp(new UsageTrackingFilter(tracker).skipUnmatched(true));
            try {
                HttpClient http = HttpClient.newHttpClient();
                assertThat(call(http, port(app), "GET", "/users/42")).isEqualTo(200);
                assertThat(call(http, port(app), "POST", "/users/42")).isEqualTo(201);
                assertThat(call(http, port(app), "GET", "/no/such/route")).isEqualTo(404);
                assertThat(call(http, port(app), "GET", "/boom")).isEqualTo(500);
                assertThat(call(http, port(quiet), "GET", "/no/such/route")).isEqualTo(404);
                assertThat(call(http, port(quiet), "GET", "/users/7")).isEqualTo(200);
                tracker.flush().get(30, TimeUnit.SECONDS);
            } finally {
                app.stop();
                quiet.stop();
                tracker.close();
            }
            assertThat(tracker.stats()).isEqualTo(new UsageTracker.Stats(5, 5, 0, 0, 0, 0));
            List<JsonNode> stored = poll(() -> rawHitNodes(stack, runtime, client[0]), l -> l.size() >= 5);
            assertThat(stored.stream().map(h -> h.get("m").asText() + " " + h.get("ep").asText() + " " + h.get("s").asInt()))
                    .containsExactlyInAnyOrder("GET /users/{id} 200", "POST /users/{id} 201", "GET /no/such/route 404",
                            "GET /boom 500", "GET /users/{id} 200");
            assertThat(stored).allSatisfy(h -> assertThat(h.get("d").asDouble()).isBetween(0.0, 30_000.0));
            assertThat(stored.stream().filter(h -> h.get("m").asText().equals("GET") && h.get("s").asInt() == 200))
                    .allSatisfy(h -> assertThat(h.get("d").asDouble()).as("the servlet sleeps 20 ms").isGreaterThanOrEqualTo(20.0));
        }
    }

    /**
     * Issue 29, finding 4, through the stack: with an ingest_hits policy of 300 the first 500-hit batch is
     * refused 400 (it could never pass), then every batch is cut to 300 and nothing is lost.
     */
    @Test
    void batchesAreCutToASmallIngestHitsPolicyAndNothingIsLost(TestStack stack) throws Exception {
        try (LocalRuntime runtime = runtime(stack, "sdkhp-", Map.of("RateLimitIngestHits", "300/1s"))) {
            HttpJson api = new HttpJson(runtime.baseUrl());
            String[] client = register(api, "fhp-").split(" ");
            List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
            UsageTracker tracker = UsageTracker.builder(URI.create(runtime.baseUrl()), client[1])
                    .flushInterval(Duration.ofMillis(200)).listener(new UsageTracker.Listener() {
                        @Override
                        public void onRejected(int hits, int status, String detail) {
                            events.add("rejected " + hits + " " + status + " " + detail);
                        }
                    }).build();
            try {
                for (int i = 0; i < 1_000; i++) tracker.record("198.51.100.7", "/api/items/" + (i % 10));
                tracker.flush().get(60, TimeUnit.SECONDS);
            } finally {
                tracker.close();
            }
            UsageTracker.Stats s = tracker.stats();
            assertThat(events).isEmpty();
            assertThat(s.acknowledged()).as(s.toString()).isEqualTo(1_000);
            assertThat(s.pending() + s.dropped() + s.rejected()).isZero();
            List<String> stored = poll(() -> rawHits(stack, runtime, client[0]), l -> l.size() >= 1_000);
            assertThat(stored).hasSize(1_000);
        }
    }

    static int call(HttpClient http, int port, String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /** Every raw hit stored for the client today, as stored (ip, ep, t, and m, s, d when known). */
    static List<JsonNode> rawHitNodes(TestStack stack, LocalRuntime runtime, String clientId) {
        List<JsonNode> out = new ArrayList<>();
        String pk = clientId + "#" + LocalDate.now(ZoneOffset.UTC);
        stack.dynamo().queryPaginator(q -> q.tableName(runtime.resource("HitsTable")).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(pk)))).items().forEach(item -> {
            try {
                MAPPER.readTree(item.get("hits").s()).forEach(out::add);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        return out;
    }

    /** Polls (up to 30 s) until {@code done} holds, and returns the last value either way. */
    static <T> T poll(java.util.function.Supplier<T> read, java.util.function.Predicate<T> done) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        T v = read.get();
        while (!done.test(v) && System.nanoTime() < end) {
            Thread.sleep(200);
            v = read.get();
        }
        return v;
    }

    static void get(HttpClient http, int port, String path, String forwardedFor) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (forwardedFor != null) b.header("X-Forwarded-For", forwardedFor);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
    }

    /** "ip endpoint" of every raw hit stored for the client today, read from the Hits table. */
    static List<String> rawHits(TestStack stack, LocalRuntime runtime, String clientId) {
        return rawHitNodes(stack, runtime, clientId).stream().map(h -> h.get("ip").asText() + " " + h.get("ep").asText()).toList();
    }
}
