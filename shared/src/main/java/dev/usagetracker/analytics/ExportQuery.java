package dev.usagetracker.analytics;

import java.util.List;
import java.util.Optional;

/**
 * A validated export request. {@code periods} are dates ({@code yyyy-MM-dd}) or hours
 * ({@code yyyy-MM-ddTHH:00:00Z}); {@code clientId} empty means every client (admin).
 */
public record ExportQuery(Optional<String> clientId, Granularity granularity, String from, String to,
                          List<String> periods, int limit, Optional<ExportPage.Position> after) {
    public enum Granularity {
        DAY("date"), HOUR("hour");

        private final String column;

        Granularity(String column) {
            this.column = column;
        }

        public String column() {
            return column;
        }

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What a cursor is bound to: everything but the position. */
    public String binding() {
        return String.join("\n", "export-v1", clientId.orElse("*"), granularity.wire(), from, to, Integer.toString(limit));
    }
}
