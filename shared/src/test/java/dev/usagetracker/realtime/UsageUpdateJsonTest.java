package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.alerts.ThresholdAlert;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageUpdateJsonTest {
    @Test
    void announcementsReadBackAsTheyWereWritten() {
        UsageUpdate usage = new UsageUpdate("", "acme-shop", "2026-11-25", "2026-11-25T10", 42, 7, 9);
        String json = new String(Json.write(usage), StandardCharsets.UTF_8);
        assertThat(json).doesNotContain("alert").doesNotContain("threshold");
        assertThat(Json.read(json.getBytes(StandardCharsets.UTF_8), UsageUpdate.class)).isEqualTo(usage);
        UsageUpdate alert = UsageUpdate.threshold(new ThresholdAlert("acme-shop", "2026-11", 80, 100, 80));
        assertThat(Json.read(Json.write(alert), UsageUpdate.class)).isEqualTo(alert);
    }
}
