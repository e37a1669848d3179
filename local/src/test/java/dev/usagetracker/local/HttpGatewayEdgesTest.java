package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway's HTTP layer on its own (Jetty, no functions): what it refuses before a route runs is
 * problem+json without a banner, a request that arrives too slowly is cut off at the configured deadline,
 * and bodies and streamed answers still work. HardeningIT drives the same through the whole runtime.
 */
class HttpGatewayEdgesTest {
    static HttpApiGateway gateway;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        gateway = new HttpApiGateway("127.0.0.1", 0, List.of(), Duration.ofSeconds(3));
        gateway.addLocalRoute("GET", "/health", path -> new HttpApiGateway.LocalResponse(200, "application/json",
                "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8)));
        // reads the whole body and answers its length; then a streamed answer in three pieces
        gateway.addStreamingRoute("POST", "/echo", (event, exchange) -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            return APIGatewayV2HTTPResponse.builder().withStatusCode(200).withHeaders(Map.of("Content-Type", "application/json"))
                    .withBody("{\"length\":" + body.length + "}").build();
        });
        // the header values the route's event got
        gateway.addStreamingRoute("GET", "/headers", (event, exchange) -> APIGatewayV2HTTPResponse.builder().withStatusCode(200)
                .withHeaders(Map.of("Content-Type", "application/json")).withBody(JSON.writeValueAsString(event.getHeaders())).build());
        // header names spelled as a function spells them (RateLimit-*, Idempotent-Replayed, a lower-case one)
        gateway.addStreamingRoute("GET", "/spelled", (event, exchange) -> APIGatewayV2HTTPResponse.builder().withStatusCode(200)
                .withHeaders(Map.of("Content-Type", "application/json", "RateLimit-Policy", "\"ingest\";q=500;w=60",
                        "Idempotent-Replayed", "true", "x-cache", "MISS")).withBody("{}").build());
        gateway.addStreamingRoute("GET", "/stream", (event, exchange) -> {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            for (int i = 0; i < 3; i++) {
                out.write(("data: " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            out.close();
            return null;
        });
        gateway.start();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) gateway.close();
    }

    @Test
    void whatTheHttpLayerRefusesIsAProblemWithTheSecurityHeadersAndNoBanner() throws Exception {
        String post = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put("Content-Length: abc", post + "Content-Length: abc\r\n\r\n{}");
        refused.put("Content-Length: -1", post + "Content-Length: -1\r\n\r\n{}");
        refused.put("two different Content-Length", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x");
        refused.put("Content-Length with chunked", post + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        refused.put("a bare CR in a header", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Evil: a\rb\r\n\r\n");
        refused.put("an invalid request line", "GET /health HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n");
        refused.put("no Host", "GET /health HTTP/1.1\r\n\r\n");
        for (Map.Entry<String, String> c : refused.entrySet()) {
            assertProblem(c.getKey(), HardeningIT.rawExchange(gateway.port(), c.getValue(), Duration.ofSeconds(10)), 400);
        }
        assertProblem("an unknown protocol version", HardeningIT.rawExchange(gateway.port(), "GET /health HTTP/2.5\r\nHost: 127.0.0.1\r\n\r\n",
                Duration.ofSeconds(10)), 505);
        // headers larger than the gateway takes
        assertProblem("large headers", HardeningIT.rawExchange(gateway.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                + "a".repeat(HttpApiGateway.MAX_REQUEST_HEADER_BYTES + 10) + "\r\n\r\n", Duration.ofSeconds(10)), 431);
        // ambiguous paths reach the routes as they are (404 here), as with API Gateway
        assertThat(HardeningIT.rawExchange(gateway.port(), "GET /docs/..%2Fpom.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                Duration.ofSeconds(10))).startsWith("HTTP/1.1 404");
        // and the server still answers
        String ok = HardeningIT.rawExchange(gateway.port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                Duration.ofSeconds(10));
        assertThat(ok).startsWith("HTTP/1.1 200").contains("{\"status\":\"ok\"}");
        assertThat(ok.toLowerCase()).doesNotContain("server:");
    }

    static void assertProblem(String what, String answer, int status) throws Exception {
        assertThat(answer).as(what).startsWith("HTTP/1.1 " + status + " ");
        int split = answer.indexOf("\r\n\r\n");
        String head = answer.substring(0, split).toLowerCase();
        assertThat(head).as(what).contains("content-type: application/problem+json").doesNotContain("server:")
                .doesNotContain("x-powered-by").contains("x-content-type-options: nosniff")
                .contains("x-frame-options: deny").contains("strict-transport-security:");
        JsonNode problem = JSON.readTree(answer.substring(split + 4));
        assertThat(problem.get("status").asInt()).as(what).isEqualTo(status);
        assertThat(problem.get("type").asText()).as(what).startsWith("https://");
        assertThat(problem.hasNonNull("title") && problem.hasNonNull("detail")).as(what).isTrue();
        assertThat(answer).as(what).doesNotContainIgnoringCase("jetty").doesNotContain("<html").doesNotContain("at org.");
    }

    @Test
    void headerNamesLeaveSpelledAsTheFunctionAndTheGatewaySpelledThem() throws Exception {
        String answer = HardeningIT.rawExchange(gateway.port(), "GET /spelled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", Duration.ofSeconds(10));
        String head = answer.substring(0, answer.indexOf("\r\n\r\n") + 2);
        // HTTP names are case-insensitive, but API Gateway passes a function's spelling on as it is
        assertThat(head).startsWith("HTTP/1.1 200").contains("\r\nContent-Type: application/json\r\n")
                .contains("\r\nRateLimit-Policy: \"ingest\";q=500;w=60\r\n").contains("\r\nIdempotent-Replayed: true\r\n")
                .contains("\r\nx-cache: MISS\r\n").contains("\r\nX-Frame-Options: DENY\r\n")
                .contains("\r\nX-Content-Type-Options: nosniff\r\n").contains("\r\nStrict-Transport-Security: ");
    }

    @Test
    void bodiesChunkedBodiesAndStreamedAnswersStillWork() throws Exception {
        String fixed = HardeningIT.rawExchange(gateway.port(), "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello",
                Duration.ofSeconds(10));
        assertThat(fixed).startsWith("HTTP/1.1 200").endsWith("{\"length\":5}");
        String chunked = HardeningIT.rawExchange(gateway.port(), "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", Duration.ofSeconds(10));
        assertThat(chunked).startsWith("HTTP/1.1 200").endsWith("{\"length\":7}");
        String stream = HardeningIT.rawExchange(gateway.port(), "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                Duration.ofSeconds(10));
        assertThat(stream).startsWith("HTTP/1.1 200").containsIgnoringCase("content-type: text/event-stream")
                .contains("data: 0").contains("data: 2");
    }

    @Test
    void headerValuesReachTheRouteAsTheClientSentThem() throws Exception {
        String answer = HardeningIT.rawExchange(gateway.port(), "GET /headers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "If-None-Match: \"v1\", \"v2\"\r\nAccept: application/json, text/plain\r\nX-Twice: a\r\nX-Twice: b, c\r\n"
                + "Connection: close\r\n\r\n", Duration.ofSeconds(10));
        JsonNode headers = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
        assertThat(headers.get("if-none-match").asText()).isEqualTo("\"v1\", \"v2\"");
        assertThat(headers.get("accept").asText()).isEqualTo("application/json, text/plain");
        // a repeated header is joined with commas, as API Gateway does
        assertThat(headers.get("x-twice").asText()).isEqualTo("a,b, c");
    }

    @Test
    void aRequestThatArrivesTooSlowlyIsCutOffAtTheDeadlineAndAFastOneIsNot() throws Exception {
        assertThat(gateway.requestTimeout()).isEqualTo(Duration.ofSeconds(3));
        // a body declared as 1000 bytes of which 10 arrive
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            long started = System.nanoTime();
            socket.getOutputStream().write("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789"
                    .getBytes(StandardCharsets.US_ASCII));
            socket.setSoTimeout(30_000);
            assertThat(drainUntilClosed(socket)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(20));
        }
        // a body dripped a byte every 300 ms (each in time for any idle timeout)
        assertThat(drip("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(20));
        // headers dripped the same way
        assertThat(drip("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(20));
        // a kept-alive connection may wait longer than the deadline before its next request (the idle timeout governs that)
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(30_000);
            for (int i = 0; i < 2; i++) {
                socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] buf = new byte[4096];
                int n = socket.getInputStream().read(buf);
                assertThat(new String(buf, 0, n, StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200");
                if (i == 0) Thread.sleep(4000);
            }
        }
    }

    /** Sends {@code head} and then a byte every 300 ms until the server closes; how long that took. */
    private static Duration drip(String head) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            long started = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            while (System.nanoTime() - started < Duration.ofSeconds(25).toNanos()) {
                try {
                    out.write('a');
                    out.flush();
                    Thread.sleep(300);
                    socket.setSoTimeout(1);
                    if (socket.getInputStream().read() == -1) return Duration.ofNanos(System.nanoTime() - started);
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // still open
                } catch (java.io.IOException reset) {
                    return Duration.ofNanos(System.nanoTime() - started);
                }
            }
            throw new AssertionError("the connection was never closed");
        }
    }

    /** Reads (and ignores) whatever comes until the server closes; false on a read timeout. */
    private static boolean drainUntilClosed(Socket socket) {
        try {
            byte[] buf = new byte[4096];
            while (socket.getInputStream().read(buf) >= 0) {
                // an answer before the close is allowed (a 408)
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException reset) {
            return true;
        }
    }
}
