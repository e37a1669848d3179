package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * openapi.yaml itself: a valid OpenAPI 3.1 document, in step with template.yaml's routes, with examples
 * that match their schemas — and a validator that really rejects drift (each way a response can break
 * the contract is shown to be caught here, so a green E2E run means something).
 */
class OpenApiContractTest {
    private static final OpenApiContract CONTRACT = OpenApiContract.get();
    private static final Map<String, List<String>> JSON = Map.of("Content-Type", List.of("application/json"),
            "Cache-Control", List.of("no-store"), "X-Content-Type-Options", List.of("nosniff"));
    private static final Map<String, List<String>> PROBLEM = Map.of("Content-Type", List.of("application/problem+json"),
            "Cache-Control", List.of("no-store"), "X-Content-Type-Options", List.of("nosniff"));
    private static final String TOKEN = "{\"access_token\":\"a.b.c\",\"token_type\":\"Bearer\",\"expires_in\":900}";

    @Test
    void documentIsValidOpenApi31() throws Exception {
        Process p = new ProcessBuilder("openapi-spec-validator", OpenApiDocument.FILE)
                .directory(TestStack.PROJECT_ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("OK");
    }

    @Test
    void documentDescribesExactlyTheTemplatesRoutesPlusTheDocumentation() {
        Set<String> template = SamTemplate.load(TestStack.PROJECT_ROOT.resolve("template.yaml")).functions().stream()
                .flatMap(f -> f.routes().stream()).map(r -> r.method() + " " + r.path()).collect(Collectors.toSet());
        Set<String> documented = OpenApiDocument.load(TestStack.PROJECT_ROOT).operations();
        assertThat(documented).containsAll(template);
        assertThat(documented).containsExactlyInAnyOrderElementsOf(union(template, Set.of("GET /openapi.json", "GET /docs")));
    }

    @Test
    void everyExampleMatchesItsSchema() {
        assertThat(CONTRACT.exampleViolations()).isEmpty();
    }

    @Test
    void conformingResponsePasses() {
        assertThat(CONTRACT.violations("POST", "/api/token", null, new HttpJson.Reply(200, JSON, TOKEN))).isEmpty();
    }

    @Test
    void undocumentedStatusIsDrift() {
        assertThat(CONTRACT.violations("POST", "/api/token", null, new HttpJson.Reply(418, PROBLEM, problem(418))))
                .singleElement().asString().contains("status 418 is not documented");
    }

    @Test
    void missingOrExtraFieldIsDrift() {
        assertThat(CONTRACT.violations("POST", "/api/token", null,
                new HttpJson.Reply(200, JSON, "{\"access_token\":\"a.b.c\",\"token_type\":\"Bearer\"}")))
                .singleElement().asString().contains("expires_in");
        assertThat(CONTRACT.violations("POST", "/api/token", null,
                new HttpJson.Reply(200, JSON, TOKEN.replace("}", ",\"refresh_token\":\"x\"}"))))
                .singleElement().asString().contains("refresh_token");
    }

    @Test
    void wrongContentTypeIsDrift() {
        Map<String, List<String>> plain = Map.of("Content-Type", List.of("text/plain"), "Cache-Control", List.of("no-store"),
                "X-Content-Type-Options", List.of("nosniff"));
        assertThat(CONTRACT.violations("POST", "/api/token", null, new HttpJson.Reply(200, plain, TOKEN)))
                .singleElement().asString().contains("content type 'text/plain'");
    }

    @Test
    void missingRequiredHeaderIsDrift() {
        assertThat(CONTRACT.violations("GET", "/api/usage/daily", null, new HttpJson.Reply(401, PROBLEM, problem(401))))
                .singleElement().asString().contains("WWW-Authenticate");
        Map<String, List<String>> cacheable = Map.of("Content-Type", List.of("application/json"),
                "Cache-Control", List.of("public, max-age=60"), "X-Content-Type-Options", List.of("nosniff"));
        assertThat(CONTRACT.violations("POST", "/api/token", null, new HttpJson.Reply(200, cacheable, TOKEN)))
                .singleElement().asString().contains("header Cache-Control");
    }

    @Test
    void acceptingARequestTheDocumentForbidsIsDrift() {
        assertThat(CONTRACT.violations("POST", "/api/logs", "{\"ip\":\"1.2.3.4\",\"endpoint\":\"/x\",\"extra\":1}",
                new HttpJson.Reply(202, JSON, "{\"accepted\":1}")))
                .isNotEmpty().allMatch(v -> v.startsWith("accepted request body")).anyMatch(v -> v.contains("'extra'"));
    }

    @Test
    void undocumentedPathMustBeANotFoundProblem() {
        assertThat(CONTRACT.violations("GET", "/api/nothing", null, new HttpJson.Reply(404, PROBLEM, problem(404)))).isEmpty();
        assertThat(CONTRACT.violations("GET", "/api/nothing", null, new HttpJson.Reply(200, JSON, "{}"))).isNotEmpty();
        assertThat(CONTRACT.violations("DELETE", "/api/logs", null, new HttpJson.Reply(405, PROBLEM, problem(405)))).isEmpty();
    }

    @Test
    void rateLimitHeadersAreOptionalButChecked() {
        Map<String, List<String>> limited = Map.of("Content-Type", List.of("application/problem+json"),
                "Cache-Control", List.of("no-store"), "X-Content-Type-Options", List.of("nosniff"),
                "RateLimit-Policy", List.of("\"hour\";q=1000;w=3600"), "RateLimit", List.of("\"hour\";r=0;t=60"));
        assertThat(CONTRACT.violations("POST", "/api/logs", null, new HttpJson.Reply(429, limited, problem(429))))
                .singleElement().asString().contains("Retry-After");
    }

    private static String problem(int status) {
        return "{\"type\":\"https://usage-tracker.dev/problems/x\",\"title\":\"X\",\"status\":" + status
                + ",\"detail\":\"d\",\"instance\":\"urn:request:abc\"}";
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).collect(Collectors.toSet());
    }
}
