package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2CustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SimpleIAMPolicyResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.tests.EventLoader;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code events/} fixtures for {@code sam local invoke}, run through the real function jars (each
 * in its own container class loader) against the local services. As shipped, the fixtures carry
 * placeholder credentials, so the authenticated routes answer 401, as they would for a newcomer who has
 * not replaced them; with a real key or token substituted they succeed. Every API reply is also checked
 * against openapi.yaml.
 */
@ExtendWith(TestStack.Extension.class)
class EventFixturesIT {
    static final String ADMIN_KEY = "events-admin-key-0123456789";
    static final Map<String, String> FIXTURES = Map.ofEntries(
            Map.entry("register.json", "RegisterFunction"),
            Map.entry("token.json", "TokenFunction"),
            Map.entry("logs.json", "IngestFunction"),
            Map.entry("logs-batch.json", "IngestFunction"),
            Map.entry("daily-usage.json", "DailyUsageFunction"),
            Map.entry("top-usage.json", "TopUsageFunction"),
            Map.entry("hourly-usage.json", "HourlyUsageFunction"),
            Map.entry("endpoint-usage.json", "EndpointUsageFunction"),
            Map.entry("usage-export.json", "UsageExportFunction"),
            Map.entry("jwks.json", "JwksFunction"),
            Map.entry("rotate-key.json", "RotateKeyFunction"),
            Map.entry("update-client.json", "UpdateClientFunction"),
            Map.entry("authorizer.json", "AuthorizerFunction"),
            Map.entry("hit-consumer.json", "HitConsumerFunction"),
            Map.entry("stream-ticket.json", "StreamTicketFunction"),
            Map.entry("stream-connect.json", "StreamFunction"),
            Map.entry("stream-disconnect.json", "StreamFunction"),
            Map.entry("stream-fanout.json", "StreamFanoutFunction"),
            Map.entry("prefetch.json", "PrefetchFunction"),
            Map.entry("own-client.json", "OwnClientFunction"),
            Map.entry("get-client.json", "GetClientFunction"),
            Map.entry("admin-update-client.json", "AdminUpdateClientFunction"),
            Map.entry("put-plan.json", "PutPlanFunction"),
            Map.entry("list-plans.json", "ListPlansFunction"),
            Map.entry("list-clients.json", "ListClientsFunction"),
            Map.entry("usage-quota.json", "UsageQuotaFunction"),
            Map.entry("put-webhook.json", "PutWebhookFunction"),
            Map.entry("get-webhook.json", "GetWebhookFunction"),
            Map.entry("delete-webhook.json", "DeleteWebhookFunction"),
            Map.entry("test-webhook.json", "TestWebhookFunction"),
            Map.entry("webhook-delivery.json", "WebhookDeliveryFunction"),
            Map.entry("erase-own-client.json", "EraseOwnClientFunction"),
            Map.entry("admin-erase-client.json", "AdminEraseClientFunction"),
            Map.entry("erasure.json", "ErasureFunction"));
    static LocalRuntime runtime;

    @BeforeAll
    static void start(TestStack stack) throws Exception {
        // No event source mapping traffic here: the fixtures invoke the consumer directly.
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(stack.emulators()), Map.of("METRICS_OUTPUT", "off"), Optional.of(ADMIN_KEY),
                Optional.of(Duration.ofMillis(200)), 30, 2, false, "events-"));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void everyFunctionHasAFixtureAndEveryFixtureAFunction() {
        List<String> files = Arrays.stream(TestStack.PROJECT_ROOT.resolve("events").toFile().listFiles())
                .map(File::getName).filter(n -> n.endsWith(".json")).toList();
        assertThat(files).containsExactlyInAnyOrderElementsOf(FIXTURES.keySet());
        assertThat(FIXTURES.values().stream().collect(Collectors.toSet())).containsExactlyInAnyOrderElementsOf(
                runtime.pools().keySet());
    }

    @Test
    void fixturesAsShippedGetTheStatusesANewcomerShouldSee() throws Exception {
        assertThat(http("register.json", Map.of()).getStatusCode()).isEqualTo(201);
        assertThat(http("register.json", Map.of()).getStatusCode()).as("same email again").isEqualTo(409);
        assertThat(http("jwks.json", Map.of()).getStatusCode()).isEqualTo(200);
        for (String placeholder : List.of("token.json", "logs.json", "logs-batch.json", "rotate-key.json", "update-client.json",
                "put-webhook.json", "get-webhook.json", "delete-webhook.json", "test-webhook.json", "erase-own-client.json")) {
            APIGatewayV2HTTPResponse r = http(placeholder, Map.of());
            assertThat(r.getStatusCode()).as(placeholder + " with its placeholder credentials").isEqualTo(401);
        }
        // The authorizer answers with a simple verdict; the token itself is then checked by the function (401).
        SimpleIAMPolicyResponse verdict = (SimpleIAMPolicyResponse) runtime.pools().get("AuthorizerFunction")
                .invoke(EventLoader.loadAPIGatewayV2CustomAuthorizerEvent(fixture("authorizer.json")));
        assertThat(verdict).isNotNull();
        for (String placeholder : List.of("daily-usage.json", "top-usage.json", "hourly-usage.json", "endpoint-usage.json",
                "usage-export.json", "own-client.json", "get-client.json", "admin-update-client.json", "put-plan.json",
                "list-plans.json", "list-clients.json", "usage-quota.json", "admin-erase-client.json")) {
            assertThat(http(placeholder, Map.of()).getStatusCode()).as(placeholder).isEqualTo(401);
        }
        assertThat(http("stream-ticket.json", Map.of()).getStatusCode()).isEqualTo(401);
        assertThat(webSocket("stream-connect.json", null).getStatusCode()).as("$connect with the placeholder token").isEqualTo(401);
        assertThat(webSocket("stream-disconnect.json", null).getStatusCode()).isEqualTo(200);
        // No connection is open for the fixture's clients: nothing to push, nothing failed.
        assertThat(runtime.pools().get("StreamFanoutFunction").invoke(EventLoader.loadDynamoDbEvent(fixture("stream-fanout.json"))))
                .isEqualTo(Map.of("delivered", 0, "gone", 0, "failed", 0, "revoked", 0, "unchecked", 0));
        SQSBatchResponse consumed = (SQSBatchResponse) runtime.pools().get("HitConsumerFunction")
                .invoke(EventLoader.loadSQSEvent(fixture("hit-consumer.json")));
        // acme-shop is not registered on this stack: its hits are dropped (docs/database.md, "Erasure"), not failed
        assertThat(consumed.getBatchItemFailures()).as("both messages handled").isEmpty();
        // A test event for a client without a webhook: nobody to deliver to, nothing failed.
        SQSBatchResponse delivered = (SQSBatchResponse) runtime.pools().get("WebhookDeliveryFunction")
                .invoke(EventLoader.loadSQSEvent(fixture("webhook-delivery.json")));
        assertThat(delivered.getBatchItemFailures()).isEmpty();
        SQSEvent again = EventLoader.loadSQSEvent(fixture("hit-consumer.json"));
        assertThat(((SQSBatchResponse) runtime.pools().get("HitConsumerFunction").invoke(again)).getBatchItemFailures())
                .as("a redelivered fixture is a duplicate, not a failure").isEmpty();
        // The erasure of a client this stack does not have: a harmless sweep, not a failure.
        assertThat(((SQSBatchResponse) runtime.pools().get("ErasureFunction").invoke(EventLoader.loadSQSEvent(fixture("erasure.json"))))
                .getBatchItemFailures()).isEmpty();
    }

    @Test
    void fixturesWithRealCredentialsSucceed() throws Exception {
        APIGatewayV2HTTPResponse issued = http("token.json", Map.of("x-api-key", ADMIN_KEY));
        assertThat(issued.getStatusCode()).isEqualTo(200);
        String token = new ObjectMapper().readTree(issued.getBody()).get("access_token").asText();
        Map<String, String> bearer = Map.of("authorization", "Bearer " + token);
        assertThat(http("logs.json", Map.of("x-api-key", ADMIN_KEY)).getStatusCode()).isEqualTo(202);
        assertThat(http("logs-batch.json", bearer).getStatusCode()).isEqualTo(202);
        assertThat(http("daily-usage.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("top-usage.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("hourly-usage.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("endpoint-usage.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("usage-export.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("put-plan.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("list-plans.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("list-clients.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("usage-quota.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("update-client.json", Map.of("x-api-key", ADMIN_KEY)).getStatusCode()).isEqualTo(200);
        assertThat(http("stream-ticket.json", bearer).getStatusCode()).isEqualTo(200);
        assertThat(http("own-client.json", bearer).getStatusCode()).isEqualTo(200);
        // the fixtures name a client this stack does not have
        assertThat(http("get-client.json", bearer).getStatusCode()).isEqualTo(404);
        assertThat(http("admin-update-client.json", bearer).getStatusCode()).isEqualTo(404);
        assertThat(http("admin-erase-client.json", bearer).getStatusCode()).isEqualTo(404);
        // the bootstrap admin's own key: it cannot be erased
        assertThat(http("erase-own-client.json", Map.of("x-api-key", ADMIN_KEY)).getStatusCode()).isEqualTo(409);
        assertThat(webSocket("stream-connect.json", token).getStatusCode()).isEqualTo(200);
        assertThat(webSocket("stream-disconnect.json", null).getStatusCode()).isEqualTo(200);
        APIGatewayV2CustomAuthorizerEvent authorizer = EventLoader.loadAPIGatewayV2CustomAuthorizerEvent(fixture("authorizer.json"));
        Map<String, String> headers = new HashMap<>(authorizer.getHeaders());
        headers.putAll(bearer);
        authorizer.setHeaders(headers);
        authorizer.setIdentitySource(List.of("Bearer " + token));
        assertThat(((SimpleIAMPolicyResponse) runtime.pools().get("AuthorizerFunction").invoke(authorizer)).getIsAuthorized()).isTrue();
    }

    private static APIGatewayV2HTTPResponse http(String name, Map<String, String> headers) throws Exception {
        APIGatewayV2HTTPEvent event = EventLoader.loadApiGatewayHttpEvent(fixture(name));
        Map<String, String> merged = new HashMap<>(event.getHeaders());
        merged.putAll(headers);
        event.setHeaders(merged);
        APIGatewayV2HTTPResponse response = (APIGatewayV2HTTPResponse) runtime.pools().get(FIXTURES.get(name)).invoke(event);
        Map<String, List<String>> replyHeaders = new HashMap<>();
        response.getHeaders().forEach((k, v) -> replyHeaders.put(k, List.of(v)));
        OpenApiContract.get().check(event.getRequestContext().getHttp().getMethod(), event.getRawPath(), event.getBody(),
                new HttpJson.Reply(response.getStatusCode(), replyHeaders, response.getBody()));
        return response;
    }

    private static APIGatewayV2WebSocketResponse webSocket(String name, String token) throws Exception {
        APIGatewayV2WebSocketEvent event = EventLoader.loadEvent(fixture(name), APIGatewayV2WebSocketEvent.class);
        if (token != null) event.setQueryStringParameters(Map.of("token", token));
        return (APIGatewayV2WebSocketResponse) runtime.pools().get(FIXTURES.get(name)).invoke(event);
    }

    private static String fixture(String name) {
        return TestStack.PROJECT_ROOT.resolve("events").resolve(name).toString();
    }
}
