package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.forwarder.SubscriptionPayload;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterType;

/**
 * The access-log forwarder (forwarder/, its shaded jar in a class loader of its own) against the real local
 * runtime: CloudWatch Logs subscription payloads built here as CloudWatch builds them (gzip + base64 of JSON)
 * from access-log lines in each documented format, the API key read from an SSM SecureString in moto_server.
 */
class ForwarderIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration INVOCATION = Duration.ofSeconds(60);

    private static ChaosStack stack;
    private static SsmClient ssm;
    private static Map<String, String> awsEnvironment;

    @BeforeAll
    static void start() throws Exception {
        stack = ChaosStacks.start("forwarder", 1, 2, Map.of());
        Emulators emulators = stack.runtime().emulators().orElseThrow();
        Map<String, String> env = emulators.clientEnvironment("forwarder");
        awsEnvironment = Map.of("AWS_REGION", env.get("AWS_REGION"), "AWS_ACCESS_KEY_ID", env.get("AWS_ACCESS_KEY_ID"),
                "AWS_SECRET_ACCESS_KEY", env.get("AWS_SECRET_ACCESS_KEY"), "AWS_ENDPOINT_URL_SSM", emulators.awsEndpoint());
        ssm = SsmClient.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(URI.create(emulators.awsEndpoint())).region(Region.of(env.get("AWS_REGION")))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY"))))
                .build();
    }

    @AfterAll
    static void stop() {
        if (ssm != null) ssm.close();
        if (stack != null) stack.close();
    }

    /** A forwarder deployed for a client: its key in an SSM SecureString, as docs/forwarder.md stores it. */
    private static ForwarderJar forwarderFor(LoadGenerator.Client client, Map<String, String> settings) throws Exception {
        String parameter = "/usage-tracker/" + client.clientId() + "/api-key";
        ssm.putParameter(r -> r.name(parameter).type(ParameterType.SECURE_STRING).value(client.apiKey()).overwrite(true));
        Map<String, String> env = new HashMap<>(awsEnvironment);
        env.put("USAGE_TRACKER_URL", stack.baseUrl());
        env.put("API_KEY_PARAMETER", parameter);
        env.putAll(settings);
        return new ForwarderJar(ForwarderJar.jar(TestStack.PROJECT_ROOT), env);
    }

    private static LoadGenerator.Client client(String tag) throws Exception {
        return stack.register(tag, 1, false).getFirst();
    }

    /** Access-log lines of an HTTP API (routeKey) or a REST API (resourcePath), as docs/forwarder.md's formats write them. */
    static final class Lines {
        final List<SubscriptionPayload.LogEvent> events = new ArrayList<>();
        final Map<String, Long> byEndpoint = new TreeMap<>();
        final Map<String, Map<String, Long>> statuses = new TreeMap<>();
        private static final String[][] HTTP_ROUTES = {
                {"GET /api/users/{id}", "GET", "/api/users/%d", "/api/users/{id}"},
                {"POST /api/orders", "POST", "/api/orders", "/api/orders"},
                {"$default", "GET", "/healthz", "/healthz"},
                {"GET /api/reports/{reportId}", "GET", "/api/reports/r%d", "/api/reports/{reportId}"}};
        private static final String[][] REST_ROUTES = {
                {"/api/users/{id}", "GET", "/prod/api/users/%d", "/api/users/{id}"},
                {"/api/orders", "POST", "/prod/api/orders", "/api/orders"},
                {"/{proxy+}", "GET", "/healthz", "/healthz"},
                {"/api/reports/{reportId}", "GET", "/prod/api/reports/r%d", "/api/reports/{reportId}"}};
        private static final int[] STATUS = {200, 201, 404, 500, 503, 200, 302};

        Lines add(int n, boolean restApi, long idBase) {
            long now = System.currentTimeMillis();
            for (int i = 0; i < n; i++) {
                String[] route = (restApi ? REST_ROUTES : HTTP_ROUTES)[i % 4];
                int status = STATUS[i % STATUS.length];
                Map<String, String> line = new java.util.LinkedHashMap<>();
                line.put("requestId", "req-" + idBase + "-" + i);
                line.put("ip", i % 3 == 0 ? "2001:db8::" + Integer.toHexString(i + 1) : "203.0.113." + (i % 250 + 1));
                line.put("requestTimeEpoch", Long.toString(now - n + i));
                line.put(restApi ? "resourcePath" : "routeKey", route[0]);
                line.put("httpMethod", route[1]);
                line.put("path", String.format(route[2], i));
                line.put("status", Integer.toString(status));
                line.put("responseLatency", Integer.toString(5 + i % 200));
                add(String.valueOf(idBase + i), now, write(line));
                byEndpoint.merge(route[3], 1L, Long::sum);
                statuses.computeIfAbsent(route[3], k -> new TreeMap<>()).merge(status / 100 + "xx", 1L, Long::sum);
            }
            return this;
        }

        void add(String id, long timestamp, String message) {
            events.add(new SubscriptionPayload.LogEvent(id, timestamp, message));
        }

        String payload(String logGroup, String logStream) {
            return new SubscriptionPayload("DATA_MESSAGE", "123456789012", logGroup, logStream, events).encode();
        }

        private static String write(Object line) {
            try {
                return JSON.writeValueAsString(line);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void tenThousandAccessLogLinesInEveryDocumentedFormatAreCountedExactlyByRoute() throws Exception {
        LoadGenerator.Client client = client("fwd-formats");
        Map<String, Long> expected = new TreeMap<>();
        Map<String, Map<String, Long>> expectedStatuses = new TreeMap<>();
        long accepted = 0;
        int unparsed = 0;
        try (ForwarderJar forwarder = forwarderFor(client, Map.of())) {
            for (int stream = 0; stream < 4; stream++) {
                Lines lines = new Lines().add(2_500, stream % 2 == 1, 37_956_487_109_301_240L + stream * 10_000L);
                if (stream == 0) {  // what another log format or a truncated delivery leaves in the group
                    lines.add("garbage-1", System.currentTimeMillis(), "127.0.0.1 - - [06/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200");
                    lines.add("garbage-2", System.currentTimeMillis(), "{\"ip\":\"203.0.113.1\",\"routeKey\":\"GET /x\",\"sta");
                    lines.add("garbage-3", System.currentTimeMillis(), "{\"status\":\"200\",\"path\":\"/no-address\"}");
                    unparsed += 3;
                }
                lines.byEndpoint.forEach((k, v) -> expected.merge(k, v, Long::sum));
                lines.statuses.forEach((k, v) -> v.forEach((c, n) -> expectedStatuses.computeIfAbsent(k, x -> new TreeMap<>()).merge(c, n, Long::sum)));
                Map<String, Integer> result = forwarder.invoke(lines.payload("/aws/apigateway/shop-api", "stream-" + stream), INVOCATION);
                assertThat(result.get("events")).isEqualTo(lines.events.size());
                assertThat(result.get("unparsed")).isEqualTo(stream == 0 ? 3 : 0);
                assertThat(result.get("rejected")).isZero();
                assertThat(result.get("requests")).isEqualTo(5);  // 2,500 hits in batches of 500
                accepted += result.get("accepted");
            }
            assertThat(forwarder.logs()).filteredOn(l -> l.contains("access-log line skipped")).hasSize(unparsed)
                    .noneMatch(l -> l.contains("no-address") || l.contains(client.apiKey()));
        }
        // A generic JSON access log (nginx log_format escape=json) through a field mapping.
        try (ForwarderJar nginx = forwarderFor(client, Map.of("FIELD_MAP",
                "ip=remote_addr,method=request_method,path=request_uri,status=status,duration_s=request_time,time=msec"))) {
            Lines lines = new Lines();
            long now = System.currentTimeMillis();
            for (int i = 0; i < 500; i++) {
                lines.add("nginx-" + i, now, Lines.write(Map.of("remote_addr", "192.0.2." + (i % 200 + 1), "request_method", "PUT",
                        "request_uri", "/v1/items/" + (1000 + i) + "?debug=1", "status", "204", "request_time", "0.012",
                        "msec", String.format(java.util.Locale.ROOT, "%.3f", (now - 500 + i) / 1000.0))));
            }
            expected.merge("/v1/items/{id}", 500L, Long::sum);
            expectedStatuses.put("/v1/items/{id}", new TreeMap<>(Map.of("2xx", 500L)));
            Map<String, Integer> result = nginx.invoke(lines.payload("/var/log/nginx/access", "web-1"), INVOCATION);
            assertThat(result.get("accepted")).isEqualTo(500);
            accepted += 500;
        }
        assertThat(accepted).isEqualTo(10_500);

        stack.settle(Duration.ofSeconds(180));
        assertThat(stack.counts().get(client.clientId())).isEqualTo(10_500L);
        Map<String, Long> byEndpoint = new TreeMap<>();
        Map<String, Map<String, Long>> statuses = new TreeMap<>();
        JsonNode endpoints = get("/api/usage/endpoints?days=2&limit=100&client_id=" + client.clientId());
        endpoints.get("endpoints").forEach(e -> {
            byEndpoint.put(e.get("endpoint").asText(), e.get("count").asLong());
            Map<String, Long> classes = new TreeMap<>();
            e.get("statuses").fields().forEachRemaining(f -> { if (f.getValue().asLong() > 0) classes.put(f.getKey(), f.getValue().asLong()); });
            statuses.put(e.get("endpoint").asText(), classes);
            // every line carried a latency (the nginx ones 12 ms): the row has percentiles
            assertThat(e.get("duration_ms").isObject()).as(e.toString()).isTrue();
        });
        assertThat(byEndpoint).isEqualTo(expected);
        assertThat(statuses).as("statuses per route, as the access logs said").isEqualTo(expectedStatuses);
        assertThat(endpoints.get("total").asLong()).isEqualTo(10_500);
    }

    @Test
    void aPayloadDeliveredTwiceIsCountedOnce() throws Exception {
        LoadGenerator.Client client = client("fwd-twice");
        Lines lines = new Lines().add(1_200, false, 1_000_000);
        String payload = lines.payload("/aws/apigateway/twice", "s");
        try (ForwarderJar forwarder = forwarderFor(client, Map.of())) {
            assertThat(forwarder.invoke(payload, INVOCATION).get("accepted")).isEqualTo(1_200);
            assertThat(forwarder.invoke(payload, INVOCATION).get("accepted")).as("answered as replays").isEqualTo(1_200);
        }
        try (ForwarderJar otherContainer = forwarderFor(client, Map.of())) {
            assertThat(otherContainer.invoke(payload, INVOCATION).get("accepted")).isEqualTo(1_200);
        }
        stack.settle(Duration.ofSeconds(120));
        assertThat(stack.counts().get(client.clientId())).isEqualTo(1_200L);
    }

    @Test
    void aServiceAnswering503ThenAcceptingIsCountedOnceAndAnUnfinishedInvocationFailsForLambdaToRetry() throws Exception {
        LoadGenerator.Client client = client("fwd-outage");
        Lines first = new Lines().add(900, true, 2_000_000);
        Lines second = new Lines().add(700, false, 3_000_000);
        try (ForwarderJar forwarder = forwarderFor(client, Map.of("DEADLINE_MARGIN_MS", "1000"))) {
            // The service answers 503 (SQS and DynamoDB unreachable) and recovers while the invocation retries.
            stack.cutSqs();
            stack.cutDynamo();
            CompletableFuture<Map<String, Integer>> invocation = CompletableFuture.supplyAsync(() -> {
                try {
                    return forwarder.invoke(first.payload("/aws/apigateway/outage", "a"), INVOCATION);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ManagedProcess.sleep(4_000);
            stack.restoreDynamo();
            stack.restoreSqs();
            assertThat(invocation.get().get("accepted")).isEqualTo(900);

            // Down for longer than the invocation lasts: it fails, and Lambda's retry after the recovery counts once.
            stack.cutSqs();
            stack.cutDynamo();
            String payload = second.payload("/aws/apigateway/outage", "b");
            assertThatThrownBy(() -> forwarder.invoke(payload, Duration.ofSeconds(6)))
                    .hasMessageContaining("before the invocation's deadline").hasMessageNotContaining(client.apiKey());
            stack.restoreDynamo();
            stack.restoreSqs();
            assertThat(forwarder.invoke(payload, INVOCATION).get("accepted")).isEqualTo(700);
            assertThat(forwarder.logs()).noneMatch(l -> l.contains(client.apiKey()));
        } finally {
            stack.restoreAll();
        }
        stack.settle(Duration.ofSeconds(180));
        assertThat(stack.counts().get(client.clientId())).isEqualTo(1_600L);
    }

    private static JsonNode get(String path) throws Exception {
        String token = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(stack.baseUrl() + "/api/token"))
                .header("X-API-Key", ChaosStack.ADMIN_KEY).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString()).body()).get("access_token").asText();
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(stack.baseUrl() + path))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }
}
