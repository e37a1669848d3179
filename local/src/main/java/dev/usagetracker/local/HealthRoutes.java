package dev.usagetracker.local;

import com.sun.net.httpserver.HttpExchange;
import dev.usagetracker.http.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;

/**
 * {@code GET /health} (liveness: the runtime answers) and {@code GET /health/ready} (each dependency's
 * state, {@link Readiness}), served by the local runtime itself like a load balancer's health check,
 * not by a function. Ready answers 200 when hits can be taken (ok or degraded) and 503 when they cannot.
 */
final class HealthRoutes {
    private final Readiness readiness;

    HealthRoutes(Readiness readiness) {
        this.readiness = readiness;
    }

    void register(HttpApiGateway gateway) {
        gateway.addLocalRoute("GET", "/health", this::live);
        gateway.addLocalRoute("GET", "/health/ready", this::ready);
    }

    private void live(HttpExchange exchange) throws IOException {
        write(exchange, 200, Map.of("status", "ok"), Map.of());
    }

    private void ready(HttpExchange exchange) throws IOException {
        Readiness.Report report = readiness.check();
        write(exchange, report.canIngest() ? 200 : 503, report,
                report.canIngest() ? Map.of() : Map.of("Retry-After", "5"));
    }

    private static void write(HttpExchange exchange, int status, Object body, Map<String, String> headers) throws IOException {
        byte[] bytes = Json.write(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
