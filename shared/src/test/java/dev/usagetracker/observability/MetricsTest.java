package dev.usagetracker.observability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The EMF line is what CloudWatch parses: every declared metric has a numeric field, dimensions exist. */
class MetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Metrics.Sink SINK = new Metrics.Sink(null, "UsageTracker", "usage-tracker", "IngestFunction");

    @Test
    void emfLineDeclaresEveryMetricWithItsUnitAndCarriesTheDimensions() throws Exception {
        String line;
        try (Correlation.Scope ignored = Correlation.begin("req-123")) {
            line = Metrics.begin().count(Metrics.HITS_ACCEPTED, 3).count(Metrics.HITS_ACCEPTED, 2)
                    .millis(Metrics.CONSUMER_LAG, 12.5).property("batch_id", "b1").render(SINK, 1_700_000_000_000L);
        }
        JsonNode emf = JSON.readTree(line);
        JsonNode directive = emf.get("_aws").get("CloudWatchMetrics").get(0);
        assertThat(emf.get("_aws").get("Timestamp").asLong()).isEqualTo(1_700_000_000_000L);
        assertThat(directive.get("Namespace").asText()).isEqualTo("UsageTracker");
        List<String> dimensions = new ArrayList<>();
        directive.get("Dimensions").get(0).forEach(d -> dimensions.add(d.asText()));
        assertThat(dimensions).containsExactly("service", "function");
        dimensions.forEach(d -> assertThat(emf.get(d).isTextual()).as(d).isTrue());
        Map<String, String> declared = new java.util.HashMap<>();
        directive.get("Metrics").forEach(m -> declared.put(m.get("Name").asText(), m.get("Unit").asText()));
        assertThat(declared).containsExactlyInAnyOrderEntriesOf(
                Map.of(Metrics.HITS_ACCEPTED, "Count", Metrics.CONSUMER_LAG, "Milliseconds"));
        assertThat(emf.get(Metrics.HITS_ACCEPTED).asLong()).isEqualTo(5);
        assertThat(emf.get(Metrics.CONSUMER_LAG).asDouble()).isEqualTo(12.5);
        assertThat(emf.get("correlation_id").asText()).isEqualTo("req-123");
        assertThat(emf.get("batch_id").asText()).isEqualTo("b1");
    }

    @Test
    void jsonLinesEscapeWhatWouldBreakTheLine() throws Exception {
        String line = new JsonLine().field("message", "quote \" backslash \\ newline \n tab \t ctl \u0001")
                .field("ids", List.of("a", "b")).field("n", 3).field("none", null).toString();
        JsonNode node = JSON.readTree(line);
        assertThat(line).doesNotContain("\n");
        assertThat(node.get("message").asText()).isEqualTo("quote \" backslash \\ newline \n tab \t ctl \u0001");
        assertThat(node.get("ids")).hasSize(2);
        assertThat(node.get("n").asInt()).isEqualTo(3);
        assertThat(node.get("none").isNull()).isTrue();
    }

    @Test
    void correlationScopeRestoresTheOuterId() {
        try (Correlation.Scope outer = Correlation.begin("outer")) {
            try (Correlation.Scope inner = Correlation.begin("inner")) {
                assertThat(Correlation.current()).isEqualTo("inner");
            }
            assertThat(Correlation.current()).isEqualTo("outer");
        }
        assertThat(Correlation.current()).isNull();
    }
}
