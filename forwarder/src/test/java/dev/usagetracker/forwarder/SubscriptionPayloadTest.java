package dev.usagetracker.forwarder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SubscriptionPayloadTest {
    @Test
    void decodesWhatCloudWatchLogsEncodes() {
        SubscriptionPayload payload = new SubscriptionPayload("DATA_MESSAGE", "123456789012", "/aws/g", "s",
                List.of(new SubscriptionPayload.LogEvent("1", 5, "{\"a\":1}")));
        assertThat(SubscriptionPayload.decode(payload.encode())).isEqualTo(payload);
    }

    @Test
    void aControlMessageCarriesNothingToForward() {
        SubscriptionPayload control = SubscriptionPayload.decode(
                new SubscriptionPayload("CONTROL_MESSAGE", "CloudwatchLogs", "testLogGroup", "testLogStream", List.of()).encode());
        assertThat(control.isControlMessage()).isTrue();
    }

    @Test
    void aDeliveryThatIsNotBase64GzipJsonIsRefused() {
        assertThatThrownBy(() -> SubscriptionPayload.decode("%%%")).hasMessageContaining("not base64");
        assertThatThrownBy(() -> SubscriptionPayload.decode("aGVsbG8=")).hasMessageContaining("not gzip-compressed JSON");
        assertThatThrownBy(() -> SubscriptionPayload.decode(null)).hasMessageContaining("no awslogs.data");
    }

    @Test
    void theSamLocalInvokeFixtureHoldsAccessLogLinesInTheDocumentedFormat() throws Exception {
        Path fixture = Path.of("events/access-logs.json");
        String data = new ObjectMapper().readTree(Files.readString(fixture)).path("awslogs").path("data").asText();
        SubscriptionPayload payload = SubscriptionPayload.decode(data);
        assertThat(payload.logEvents()).hasSize(5);
        AccessLogParser parser = new AccessLogParser(FieldMapping.API_GATEWAY);
        assertThat(payload.logEvents()).allSatisfy(e -> assertThat(parser.parse(e.message(), e.timestamp()).hit()).isNotNull());
        assertThat(parser.parse(payload.logEvents().getFirst().message(), 0).hit().endpoint()).isEqualTo("/api/users/{id}");
    }
}
