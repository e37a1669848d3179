package dev.usagetracker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.http.ApiException.FieldError;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResponsesTest {
    private static final String REQUEST_ID = "req-42";

    @Test
    void problemCarriesTypeTitleStatusDetailAndInstance() {
        APIGatewayV2HTTPResponse response = Responses.problem(ApiException.notFound("No client with that client_id."),
                REQUEST_ID);

        assertThat(response.getStatusCode()).isEqualTo(404);
        assertThat(response.getHeaders()).containsEntry("Content-Type", "application/problem+json");
        JsonNode body = body(response);
        assertThat(body.get("type").asText()).isEqualTo("https://usage-tracker.dev/problems/not-found");
        assertThat(body.get("title").asText()).isEqualTo("Not found");
        assertThat(body.get("status").asInt()).isEqualTo(404);
        assertThat(body.get("detail").asText()).isEqualTo("No client with that client_id.");
        assertThat(body.get("instance").asText()).isEqualTo("urn:request:req-42");
    }

    @Test
    void problemOmitsErrorsWhenThereAreNone() {
        JsonNode body = body(Responses.problem(ApiException.badRequest("nope"), REQUEST_ID));

        assertThat(body.has("errors")).isFalse();
        assertThat(names(body)).containsExactly("type", "title", "status", "detail", "instance");
    }

    @Test
    void problemListsFieldErrorsWhenPresent() {
        ApiException e = ApiException.validation(List.of(
                new FieldError("hits[0].ip", "must be an IPv4 or IPv6 address"),
                new FieldError("hits[2].endpoint", "is required")));

        JsonNode errors = body(Responses.problem(e, REQUEST_ID)).get("errors");

        assertThat(errors.size()).isEqualTo(2);
        assertThat(errors.get(0).get("field").asText()).isEqualTo("hits[0].ip");
        assertThat(errors.get(0).get("message").asText()).isEqualTo("must be an IPv4 or IPv6 address");
        assertThat(errors.get(1).get("field").asText()).isEqualTo("hits[2].endpoint");
    }

    @Test
    void unauthorizedProblemChallengesWithWwwAuthenticate() {
        APIGatewayV2HTTPResponse response = Responses.problem(ApiException.unauthorized("no"), REQUEST_ID);

        assertThat(response.getStatusCode()).isEqualTo(401);
        assertThat(response.getHeaders()).containsEntry("WWW-Authenticate", "Bearer realm=\"usage-tracker\"");
    }

    @Test
    void unavailableProblemTellsWhenToRetry() {
        APIGatewayV2HTTPResponse response = Responses.problem(ApiException.unavailable("later", 5), REQUEST_ID);

        assertThat(response.getStatusCode()).isEqualTo(503);
        assertThat(response.getHeaders()).containsEntry("Retry-After", "5");
    }

    @Test
    void otherProblemsCarryNeitherChallengeNorRetryAfter() {
        APIGatewayV2HTTPResponse response = Responses.problem(ApiException.forbidden("no"), REQUEST_ID);

        assertThat(response.getHeaders()).doesNotContainKeys("WWW-Authenticate", "Retry-After");
    }

    @Test
    void problemWithoutARequestIdHasAnUnknownInstance() {
        assertThat(body(Responses.problem(ApiException.badRequest("x"), "")).get("instance").asText())
                .isEqualTo("urn:request:unknown");
        assertThat(body(Responses.problem(ApiException.badRequest("x"), null)).get("instance").asText())
                .isEqualTo("urn:request:unknown");
    }

    @Test
    void everyResponseIsUncacheableAndNotSniffed() {
        APIGatewayV2HTTPResponse json = Responses.json(200, Map.of("ok", true));
        APIGatewayV2HTTPResponse problem = Responses.problem(ApiException.badRequest("x"), REQUEST_ID);

        for (APIGatewayV2HTTPResponse response : List.of(json, problem)) {
            assertThat(response.getHeaders())
                    .containsEntry("Cache-Control", "no-store")
                    .containsEntry("X-Content-Type-Options", "nosniff");
        }
        assertThat(json.getHeaders()).containsEntry("Content-Type", "application/json");
    }

    // --- ApiGateway.serve -----------------------------------------------------------------------

    @Test
    void serveReturnsTheRoutesResponse() {
        APIGatewayV2HTTPResponse response = ApiGateway.serve(event("{}"), r -> Responses.json(200, Map.of("path", r.path())));

        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(body(response).get("path").asText()).isEqualTo("/api/logs");
    }

    @Test
    void serveTurnsAnApiExceptionIntoItsProblem() {
        APIGatewayV2HTTPResponse response = ApiGateway.serve(event("{}"), r -> {
            throw ApiException.conflict("taken");
        });

        assertThat(response.getStatusCode()).isEqualTo(409);
        assertThat(body(response).get("detail").asText()).isEqualTo("taken");
        assertThat(body(response).get("instance").asText()).isEqualTo("urn:request:req-123");
    }

    @Test
    void serveTurnsAnOversizedBodyInto413() {
        APIGatewayV2HTTPResponse response = ApiGateway.serve(event("x".repeat(HttpRequest.MAX_BODY_BYTES + 1)),
                r -> Responses.json(200, r.jsonBody().node()));

        assertThat(response.getStatusCode()).isEqualTo(413);
    }

    @Test
    void serveHidesTheStackTraceAndMessageOfAnUnexpectedFailure() {
        APIGatewayV2HTTPResponse response = ApiGateway.serve(event("{}"), r -> {
            throw new IllegalStateException("connection to db-internal.example:5432 failed for ut_SECRETKEY");
        });

        assertThat(response.getStatusCode()).isEqualTo(500);
        assertThat(response.getHeaders()).containsEntry("Content-Type", "application/problem+json");
        JsonNode body = body(response);
        assertThat(body.get("type").asText()).endsWith("/internal-error");
        assertThat(body.get("instance").asText()).isEqualTo("urn:request:req-123");
        assertThat(response.getBody())
                .doesNotContain("IllegalStateException")
                .doesNotContain("db-internal")
                .doesNotContain("SECRETKEY")
                .doesNotContain("\tat ")
                .doesNotContain("dev.usagetracker");
        assertThat(names(body)).containsExactly("type", "title", "status", "detail", "instance");
    }

    @Test
    void serveKeepsTheRequestIdWhenTheEventItselfCannotBeRead() {
        APIGatewayV2HTTPEvent unreadable = HttpRequestTest.event(Map.of("Content-Type", "application/json"), "POST",
                "%%% not base64 %%%", true);

        APIGatewayV2HTTPResponse response = ApiGateway.serve(unreadable, r -> Responses.json(200, Map.of()));

        assertThat(response.getStatusCode()).isEqualTo(500);
        assertThat(body(response).get("instance").asText()).isEqualTo("urn:request:req-123");
    }

    // --- helpers --------------------------------------------------------------------------------

    private static APIGatewayV2HTTPEvent event(String body) {
        return HttpRequestTest.event(Map.of("Content-Type", "application/json"), "POST", body, false);
    }

    private static JsonNode body(APIGatewayV2HTTPResponse response) {
        assertThat(response.getIsBase64Encoded()).isFalse();
        try {
            return Json.MAPPER.readTree(response.getBody().getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new AssertionError("response body is not JSON: " + response.getBody(), e);
        }
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
