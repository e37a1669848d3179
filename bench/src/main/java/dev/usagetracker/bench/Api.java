package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The service's HTTP API as a client sees it (the local runtime's gateway on loopback). */
final class Api {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;

    /** {@code cache} is the X-Cache header (HIT, MISS, STALE), empty where the route has none. */
    record Reply(int status, String body, long nanos, String cache) {
        JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON (" + status + "): " + body, e);
            }
        }
    }

    Api(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    Reply post(String path, Object json, Map<String, String> headers) {
        return send("POST", path, json, headers);
    }

    Reply put(String path, Object json, Map<String, String> headers) {
        return send("PUT", path, json, headers);
    }

    Reply patch(String path, Object json, Map<String, String> headers) {
        return send("PATCH", path, json, headers);
    }

    private Reply send(String method, String path, Object json, Map<String, String> headers) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(120))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(MAPPER.writeValueAsBytes(json)));
            headers.forEach(b::header);
            return send(b.build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Reply get(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(600)).GET();
        headers.forEach(b::header);
        return send(b.build());
    }

    private Reply send(HttpRequest request) {
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), System.nanoTime() - t0, r.headers().firstValue("X-Cache").orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Registers a client; returns {client_id, api_key}. */
    JsonNode register(String name, String email) {
        Reply r = post("/api/register", Map.of("name", name, "email", email), Map.of());
        if (r.status() != 201) throw new IllegalStateException("register answered " + r.status() + ": " + r.body());
        return r.json();
    }

    String token(String apiKey) {
        Reply r = post("/api/token", Map.of(), Map.of("X-API-Key", apiKey));
        if (r.status() != 200) throw new IllegalStateException("token answered " + r.status() + ": " + r.body());
        return r.json().get("access_token").asText();
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }
}
