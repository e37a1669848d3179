package dev.usagetracker.local;

import dev.usagetracker.http.Json;
import dev.usagetracker.local.HttpApiGateway.LocalResponse;
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
        gateway.addLocalRoute("GET", "/health", path -> json(200, Map.of("status", "ok"), Map.of()));
        gateway.addLocalRoute("GET", "/health/ready", path -> {
            Readiness.Report report = readiness.check();
            return report.canIngest() ? json(200, report, Map.of()) : json(503, report, Map.of("Retry-After", "5"));
        });
    }

    private static LocalResponse json(int status, Object body, Map<String, String> headers) {
        return new LocalResponse(status, "application/json", Json.write(body), headers);
    }
}
