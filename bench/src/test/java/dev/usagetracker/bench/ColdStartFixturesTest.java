package dev.usagetracker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.local.SamTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * bench/cold-start probes every function of template.yaml with its fixture event
 * (bench/src/main/resources/events/&lt;logical id&gt;.json): each must exist, name only placeholders the bench
 * fills, be valid JSON once filled, and be the event its trigger sends (an HTTP API route of the function,
 * or an SQS record).
 */
class ColdStartFixturesTest {
    /** What ColdStartBench fills in (setUp and the per-probe fresh values) and what the probe fills per invocation. */
    static final Set<String> PLACEHOLDERS = Set.of("uuid", "api_key", "client_id", "today", "client_token", "admin_token",
            "rotate_key", "rotate_token", "consumer_body", "webhook_url", "webhook_message_id", "fresh_api_key",
            "fresh_client_id", "fresh_erasing_client_id");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([a-z_]+)}}");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void everyFunctionOfTheTemplateHasAValidFixtureEventForItsTrigger() throws Exception {
        List<SamTemplate.Function> functions = SamTemplate.load(BenchStack.projectRoot().resolve("template.yaml")).functions();
        assertThat(functions).hasSizeGreaterThan(30);
        List<String> checked = new ArrayList<>();
        for (SamTemplate.Function f : functions) {
            String text = ColdStartBench.fixture(f);
            Matcher m = PLACEHOLDER.matcher(text);
            while (m.find()) assertThat(PLACEHOLDERS).as(f.logicalId() + " placeholder").contains(m.group(1));
            // consumer_body stands for a JSON string literal; every other placeholder sits inside one
            JsonNode event = MAPPER.readTree(text.replace("{{consumer_body}}", "\"{}\"").replaceAll("\\{\\{[a-z_]+}}", "x"));
            if (!f.routes().isEmpty()) {
                String routeKey = event.path("routeKey").asText();
                assertThat(f.routes()).as(f.logicalId() + " routeKey " + routeKey)
                        .anySatisfy(r -> assertThat(r.method() + " " + r.path()).isEqualTo(routeKey));
                assertThat(event.path("requestContext").path("routeKey").asText()).isEqualTo(routeKey);
                String method = routeKey.split(" ", 2)[0];
                assertThat(event.path("requestContext").path("http").path("method").asText()).isEqualTo(method);
                String pathPattern = routeKey.split(" ", 2)[1].replaceAll("\\{[a-z_]+}", "[^/]+");
                assertThat(event.path("rawPath").asText()).as(f.logicalId()).matches(pathPattern);
                assertThat(event.path("requestContext").path("http").path("path").asText()).isEqualTo(event.path("rawPath").asText());
                Matcher params = Pattern.compile("\\{([a-z_]+)}").matcher(routeKey);
                while (params.find()) assertThat(event.path("pathParameters").has(params.group(1))).as(f.logicalId()).isTrue();
                checked.add(f.logicalId());
            } else if (f.queueEvent().isPresent()) {
                assertThat(event.path("Records")).as(f.logicalId()).isNotEmpty();
                assertThat(event.path("Records").get(0).path("eventSource").asText()).isEqualTo("aws:sqs");
                // the message body is what the function reads: JSON itself once filled
                String body = event.path("Records").get(0).path("body").asText();
                assertThat(MAPPER.readTree(body).isObject()).as(f.logicalId() + " body").isTrue();
                checked.add(f.logicalId());
            }
        }
        assertThat(checked).contains("HourlyUsageFunction", "EndpointUsageFunction", "UsageExportFunction", "PutPlanFunction",
                "PutWebhookFunction", "WebhookDeliveryFunction", "EraseOwnClientFunction", "AdminEraseClientFunction", "ErasureFunction");
    }
}
