package dev.usagetracker.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class LogSettingsTest {
    @Test
    void auditLinesAreKeptAtInfoWhateverTheLevels() {
        LogSettings defaults = LogSettings.from(Map.of());
        assertThat(defaults.levelFor("audit")).isEqualTo(Level.INFO);
        assertThat(defaults.levelFor("dev.usagetracker.clients.ClientAdministration")).isEqualTo(Level.INFO);
        assertThat(defaults.levelFor("software.amazon.awssdk.request")).isEqualTo(Level.WARN);
        // a quieter service log or library log does not silence the record of who did what
        assertThat(LogSettings.from(Map.of("LOG_LEVEL", "error", "LOG_LEVEL_LIBRARIES", "error")).levelFor("audit")).isEqualTo(Level.INFO);
        assertThat(LogSettings.from(Map.of("LOG_LEVEL", "debug")).levelFor("audit")).isEqualTo(Level.DEBUG);
    }
}
