package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StreamSettingsTest {
    @Test
    void defaultsSuitAProcessServingStreams() {
        StreamSettings s = StreamSettings.from(Map.of());
        assertThat(s.heartbeat()).isEqualTo(Duration.ofSeconds(15));
        assertThat(s.retry()).isEqualTo(Duration.ofSeconds(3));
        assertThat(s.maxStreams()).isEqualTo(1000);
        assertThat(s.maxStreamsPerClient()).isEqualTo(10);
        assertThat(s.callbackUrl()).isEmpty();
        assertThat(s.connectionsTable()).isEqualTo("ConnectionsTable");
        assertThat(s.recheck()).isEqualTo(Duration.ofSeconds(4));
        assertThat(s.callbackSecret()).isEmpty();
    }

    @Test
    void streamsAreRecheckedAtLeastEveryFiveSecondsAndTheSecretIsNeverPrinted() {
        StreamSettings s = StreamSettings.from(Map.of("STREAM_RECHECK_SECONDS", "0.5", "WEBSOCKET_CALLBACK_SECRET", "s3cr3t-value"));
        assertThat(s.recheck()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.callbackSecret()).contains("s3cr3t-value");
        assertThat(s.toString()).doesNotContain("s3cr3t-value").contains("callbackSecret=(set)");
        assertThatThrownBy(() -> StreamSettings.from(Map.of("STREAM_RECHECK_SECONDS", "6"))).hasMessageContaining("at most 5");
    }

    @Test
    void variablesOverrideAndNonsenseIsRefused() {
        StreamSettings s = StreamSettings.from(Map.of("SSE_HEARTBEAT_SECONDS", "0.25", "WEBSOCKET_CALLBACK_URL",
                "https://abc.execute-api.eu-west-1.amazonaws.com/live", "CONNECTIONS_TABLE", "conns"));
        assertThat(s.heartbeat()).isEqualTo(Duration.ofMillis(250));
        assertThat(s.callbackUrl()).isEqualTo(Optional.of(URI.create("https://abc.execute-api.eu-west-1.amazonaws.com/live")));
        assertThat(s.connectionsTable()).isEqualTo("conns");
        assertThatThrownBy(() -> StreamSettings.from(Map.of("SSE_MAX_STREAMS", "0"))).hasMessageContaining("positive");
        assertThatThrownBy(() -> StreamSettings.from(Map.of("SSE_HEARTBEAT_SECONDS", "soon"))).hasMessageContaining("number");
    }
}
