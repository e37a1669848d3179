package dev.usagetracker.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.usagetracker.local.HttpApiGateway.LocalResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The local runtime's own routes, next to the functions': the contract ({@code /openapi.json}), its
 * browser view ({@code /docs}) and a summary of what the runtime did ({@code /metrics}). They are not
 * Lambda functions: on AWS the document ships in the repository and metrics go to CloudWatch.
 */
final class DeveloperEndpoints {
    static final String OPENAPI = "/openapi.json";
    static final String METRICS = "/metrics";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DeveloperEndpoints() {}

    static void install(HttpApiGateway gateway, OpenApiDocument document, SwaggerUi ui,
                        Map<String, FunctionPool> pools, Supplier<List<SqsEventSourceMapping>> mappings) {
        byte[] openapi = document.json();
        gateway.addLocalRoute("GET", OPENAPI, path -> new LocalResponse(200, "application/json", openapi));
        gateway.addLocalRoute("GET", SwaggerUi.PAGE, path -> new LocalResponse(200, "text/html; charset=utf-8", ui.page(), SwaggerUi.HEADERS));
        gateway.addLocalRoute("GET", SwaggerUi.ASSETS, path -> ui.asset(path.substring(SwaggerUi.ASSETS.length()))
                .map(a -> new LocalResponse(200, a.contentType(), a.body(), SwaggerUi.HEADERS))
                .orElseGet(() -> notFound(path)));
        gateway.addLocalRoute("GET", METRICS, path -> new LocalResponse(200, "application/json",
                write(gateway.metrics().snapshot(pools, mappings.get()))));
    }

    private static LocalResponse notFound(String path) {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "https://usage-tracker.dev/problems/not-found");
        problem.put("title", "Not found");
        problem.put("status", 404);
        problem.put("detail", "No Swagger UI asset at " + path + ".");
        problem.put("instance", "urn:request:local");
        return new LocalResponse(404, "application/problem+json", write(problem));
    }

    private static byte[] write(Object tree) {
        try {
            return JSON.writeValueAsString(tree).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
