package dev.usagetracker.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A small real HTTP client for the end-to-end tests. Every reply is checked against openapi.yaml
 * ({@link OpenApiContract}) before the test sees it, so whatever the tests exercise is also a contract
 * test; {@link #uncheckedFor} is for the local runtime's own routes that are not part of the API.
 */
final class HttpJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final HttpClient http;
    private final String baseUrl;
    private final boolean contract;

    record Reply(int status, Map<String, java.util.List<String>> headers, String body) {
        JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        }
    }

    HttpJson(String baseUrl) {
        this(baseUrl, true);
    }

    private HttpJson(String baseUrl, boolean contract) {
        this.baseUrl = baseUrl;
        this.contract = contract;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** Calls from another loopback address (e.g. 127.0.0.2): another source IP for the gateway. */
    HttpJson(String baseUrl, java.net.InetAddress localAddress) {
        this.baseUrl = baseUrl;
        this.contract = true;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).localAddress(localAddress).build();
    }

    /** For routes outside the API contract (the local runtime's /metrics and Swagger UI assets). */
    static HttpJson uncheckedFor(String baseUrl) {
        return new HttpJson(baseUrl, false);
    }

    /** Registers {@code <prefix>-<random>} named {@code prefix} with a matching address; asserts 201. */
    JsonNode register(String prefix) {
        return register(prefix, null);
    }

    /** As {@link #register(String)} with the given email (or a generated one when null). */
    JsonNode register(String prefix, String email) {
        String suffix = java.util.UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> body = Map.of("name", prefix, "email", email != null ? email : prefix + "-" + suffix + "@example.com",
                "client_id", prefix + "-" + suffix);
        Reply r = politely(() -> post("/api/register", body, Map.of()));
        org.assertj.core.api.Assertions.assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    /** A bearer token for the API key; asserts 200. */
    String token(String apiKey) {
        Reply r = politely(() -> post("/api/token", "application/json", "", Map.of("X-API-Key", apiKey)));
        org.assertj.core.api.Assertions.assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("access_token").asText();
    }

    /**
     * A fixture's call (a client to test with, a token), not the behaviour under test: a 503 is retried after its
     * Retry-After, as the API asks of any client, when an emulator on a loaded machine answered too late.
     */
    private static Reply politely(java.util.function.Supplier<Reply> call) {
        Reply r = call.get();
        for (int retries = 0; r.status() == 503 && retries < 3; retries++) {
            long seconds = Math.min(5, Math.max(1, Long.parseLong(java.util.Objects.requireNonNullElse(r.header("Retry-After"), "1"))));
            try {
                Thread.sleep(seconds * 1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return r;
            }
            r = call.get();
        }
        return r;
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }

    Reply post(String path, String contentType, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        headers.forEach(b::header);
        return send(b.build(), body);
    }

    Reply post(String path, Object json, Map<String, String> headers) {
        try {
            return post(path, "application/json", MAPPER.writeValueAsString(json), headers);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    Reply put(String path, Object json, Map<String, String> headers) {
        try {
            String body = MAPPER.writeValueAsString(json);
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30))
                    .PUT(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
            headers.forEach(b::header);
            return send(b.build(), body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    Reply get(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30)).GET();
        headers.forEach(b::header);
        return send(b.build());
    }

    Reply delete(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30)).DELETE();
        headers.forEach(b::header);
        return send(b.build());
    }

    Reply send(HttpRequest request) {
        return send(request, null);
    }

    private Reply send(HttpRequest request, String body) {
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            Reply reply = new Reply(r.statusCode(), r.headers().map(), r.body());
            if (contract) OpenApiContract.get().check(request.method(), request.uri().getRawPath(), body, reply);
            return reply;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
