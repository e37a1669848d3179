package dev.usagetracker.forwarder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client's answers to each status, against a scripted HTTP server on loopback (pure protocol logic). */
class IngestClientTest {
    record Answer(int status, String body, String retryAfter) {}

    private final Deque<Answer> script = new ArrayDeque<>();
    private final List<String> keys = new CopyOnWriteArrayList<>();
    private final List<String> apiKeys = new CopyOnWriteArrayList<>();
    private HttpServer server;

    private IngestClient client() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/logs", exchange -> {
            keys.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            apiKeys.add(exchange.getRequestHeaders().getFirst("X-API-Key"));
            exchange.getRequestBody().readAllBytes();
            Answer a;
            synchronized (script) {
                a = script.isEmpty() ? new Answer(202, "{\"accepted\":2}", null) : script.poll();
            }
            if (a.retryAfter() != null) exchange.getResponseHeaders().add("Retry-After", a.retryAfter());
            byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(a.status(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return new IngestClient(HttpClient.newHttpClient(), URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                () -> "ut_secret", Duration.ofSeconds(5), Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    private static HitBatch batch() {
        return HitBatch.of("/aws/g", "s", HitBatchTest.entries(2, "/p"));
    }

    @Test
    void a503IsRetriedUnderTheSameKeyUntilAccepted() throws Exception {
        IngestClient client = client();
        script.add(new Answer(503, "{\"title\":\"Service Unavailable\"}", "1"));
        script.add(new Answer(500, "{}", null));
        var outcome = client.send(batch(), Instant.now().plusSeconds(60));
        assertThat(outcome).isEqualTo(new IngestClient.Outcome.Accepted(2));
        assertThat(keys).hasSize(3).containsOnly(batch().idempotencyKey());
        assertThat(apiKeys).containsOnly("ut_secret");
    }

    @Test
    void a429WaitsItsRetryAfter() throws Exception {
        IngestClient client = client();
        script.add(new Answer(429, "{\"title\":\"Too Many Requests\"}", "1"));
        long start = System.nanoTime();
        assertThat(client.send(batch(), Instant.now().plusSeconds(60))).isInstanceOf(IngestClient.Outcome.Accepted.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(990));
    }

    @Test
    void whatCannotBeSentBeforeTheDeadlineFailsTheInvocation() throws Exception {
        IngestClient client = client();
        script.add(new Answer(429, "{\"title\":\"Too Many Requests\"}", "30"));
        assertThatThrownBy(() -> client.send(batch(), Instant.now().plusSeconds(5)))
                .isInstanceOf(IngestClient.Incomplete.class).hasMessageContaining("deadline").hasMessageNotContaining("ut_secret");
    }

    @Test
    void refusedCredentialsFailTheInvocationWithoutTheKey() throws Exception {
        IngestClient client = client();
        script.add(new Answer(401, "{\"title\":\"Unauthorized\",\"detail\":\"The API key is invalid.\"}", null));
        assertThatThrownBy(() -> client.send(batch(), Instant.now().plusSeconds(60)))
                .isInstanceOf(IngestClient.Incomplete.class).hasMessageContaining("401").hasMessageNotContaining("ut_secret");
    }

    @Test
    void a400NamingHitsRefusesThoseAndOneNamingNoneSaysTooLarge() throws Exception {
        IngestClient client = client();
        script.add(new Answer(400, "{\"detail\":\"bad\",\"errors\":[{\"field\":\"hits[1].timestamp\",\"message\":\"too old\"}]}", null));
        assertThat(client.send(batch(), Instant.now().plusSeconds(60))).isEqualTo(new IngestClient.Outcome.Refused(java.util.Set.of(1), "bad"));
        script.add(new Answer(400, "{\"detail\":\"The batch holds more hits than the ingest_hits limit.\"}", null));
        assertThat(client.send(batch(), Instant.now().plusSeconds(60))).isInstanceOf(IngestClient.Outcome.TooLarge.class);
    }

    @Test
    void a400AfterAnAttemptThatMayHaveLandedIsNotSplit() throws Exception {
        IngestClient client = client();
        script.add(new Answer(502, "{}", null));
        script.add(new Answer(400, "{\"detail\":\"bad\",\"errors\":[{\"field\":\"hits[0].timestamp\",\"message\":\"too old\"}]}", null));
        assertThat(client.send(batch(), Instant.now().plusSeconds(60))).isInstanceOf(IngestClient.Outcome.Uncertain.class);
    }
}
