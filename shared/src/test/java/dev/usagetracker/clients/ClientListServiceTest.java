package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The cursor's sealing, with a local HMAC standing in for KMS (pure logic; the stack test uses KMS). */
class ClientListServiceTest {
    private final KeyHasher hmac = (purpose, value) -> {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec("test-key".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((purpose + "\n" + value).getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    };
    private final List<String> ids = new ArrayList<>();
    private final ClientDirectory directory = (limit, after) -> {
        List<ClientDirectory.Row> rows = ids.stream().filter(id -> after.isEmpty() || id.compareTo(after.get()) > 0).limit(limit)
                .map(id -> new ClientDirectory.Row(id, id, "client", "default", false, "2026-11-26T00:00:00Z")).toList();
        boolean more = !rows.isEmpty() && ids.indexOf(rows.getLast().clientId()) < ids.size() - 1;
        return new ClientDirectory.Page(rows, more ? Optional.of(rows.getLast().clientId()) : Optional.empty());
    };
    private final ClientListService service = new ClientListService(directory, hmac);
    private final Principal admin = new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN));

    @Test
    @SuppressWarnings("unchecked")
    void pagesFollowTheCursorAndEndWithNull() {
        for (int i = 0; i < 7; i++) ids.add("c" + i);
        Map<String, Object> first = service.list(admin, 3, Optional.empty());
        assertThat((List<Map<String, Object>>) first.get("clients")).hasSize(3);
        String cursor = (String) first.get("next_cursor");
        Map<String, Object> second = service.list(admin, 3, Optional.of(cursor));
        assertThat(((List<Map<String, Object>>) second.get("clients")).getFirst()).containsEntry("client_id", "c3");
        Map<String, Object> third = service.list(admin, 3, Optional.of((String) second.get("next_cursor")));
        assertThat((List<Map<String, Object>>) third.get("clients")).hasSize(1);
        assertThat(third.get("next_cursor")).isNull();
    }

    @Test
    void aTamperedForgedOrForeignCursorIsA400AndAClientA403() {
        for (int i = 0; i < 5; i++) ids.add("c" + i);
        String cursor = (String) service.list(admin, 2, Optional.empty()).get("next_cursor");
        String forged = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"v\":1,\"q\":\"GET /api/clients?limit=2\",\"after\":\"c3\"}".getBytes(StandardCharsets.UTF_8))
                + cursor.substring(cursor.indexOf('.'));
        for (String bad : List.of(cursor + "0", "x" + cursor, forged, "no-dot", cursor.replace('.', '-'))) {
            assertThatThrownBy(() -> service.list(admin, 2, Optional.of(bad)))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.errors()).extracting(ApiException.FieldError::field).containsExactly("cursor");
                    });
        }
        assertThatThrownBy(() -> service.list(admin, 3, Optional.of(cursor))).as("another limit is another query")
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
        Principal client = new Principal("c1", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
        assertThatThrownBy(() -> service.list(client, 2, Optional.empty()))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(403));
    }
}
