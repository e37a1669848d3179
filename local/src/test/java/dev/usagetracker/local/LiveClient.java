package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.local.HttpJson.Reply;
import java.util.Map;
import java.util.UUID;

/** A freshly registered client of the live-usage tests: its id, API key and an access token. */
record LiveClient(String id, String key, String token) {
    static LiveClient register(HttpJson api, String prefix) {
        String id = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        Reply r = api.post("/api/register", Map.of("name", id, "email", id + "@example.com", "client_id", id), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        String key = r.json().get("api_key").asText();
        return new LiveClient(id, key, LocalRuntimeE2EIT.token(api, key));
    }

    Map<String, String> bearer() {
        return Map.of("Authorization", "Bearer " + token);
    }
}
