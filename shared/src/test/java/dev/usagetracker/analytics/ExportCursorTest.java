package dev.usagetracker.analytics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExportCursorTest {
    static final ExportCursor CURSORS = new ExportCursor(() -> "k".repeat(32).getBytes(StandardCharsets.UTF_8));

    static ExportQuery query(Optional<String> client, int limit) {
        return new ExportQuery(client, ExportQuery.Granularity.DAY, "2026-11-01", "2026-11-02",
                List.of("2026-11-01", "2026-11-02"), limit, Optional.empty());
    }

    @Test
    void aCursorRoundTripsForItsOwnQuery() {
        ExportQuery q = query(Optional.empty(), 5);
        String cursor = CURSORS.encode(q, new ExportPage.Position("acme", "2026-11-01"));
        assertThat(CURSORS.decode(q, cursor)).isEqualTo(new ExportPage.Position("acme", "2026-11-01"));
    }

    @Test
    void editedForgedOrForeignCursorsAreRefused() {
        ExportQuery q = query(Optional.empty(), 5);
        String cursor = CURSORS.encode(q, new ExportPage.Position("acme", "2026-11-01"));
        String edited = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("zeta\n2026-11-01".getBytes(StandardCharsets.UTF_8)) + cursor.substring(cursor.indexOf('.'));
        for (String bad : List.of(edited, "garbage", "a.b", cursor + "x", ".")) {
            assertThatThrownBy(() -> CURSORS.decode(q, bad)).isInstanceOf(ApiException.class)
                    .satisfies(e -> assertThat(((ApiException) e).errors().getFirst().field()).isEqualTo("cursor"));
        }
        assertThatThrownBy(() -> CURSORS.decode(query(Optional.empty(), 6), cursor)).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> CURSORS.decode(query(Optional.of("acme"), 5), cursor)).isInstanceOf(ApiException.class);
    }

    @Test
    void acceptNegotiationPrefersCsvAndRefusesWhatItCannotServe() {
        assertThat(ExportFormat.negotiate(null)).isEqualTo(ExportFormat.CSV);
        assertThat(ExportFormat.negotiate("*/*")).isEqualTo(ExportFormat.CSV);
        assertThat(ExportFormat.negotiate("application/x-ndjson")).isEqualTo(ExportFormat.NDJSON);
        assertThat(ExportFormat.negotiate("text/csv;q=0.5, application/x-ndjson")).isEqualTo(ExportFormat.NDJSON);
        assertThatThrownBy(() -> ExportFormat.negotiate("application/json"))
                .isInstanceOf(ApiException.class).satisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(406));
    }
}
