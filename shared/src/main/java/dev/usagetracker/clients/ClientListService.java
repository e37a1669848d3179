package dev.usagetracker.clients;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * GET /api/clients: the admin's paged client list. The cursor is opaque and tamper-proof:
 * {@code base64url(payload) "." hex(HMAC)}, the payload naming the query it belongs to and the last
 * client id of the page, the HMAC computed by KMS with the service's MAC key (purpose
 * {@code clients-cursor}, so it can never equal an API-key or email hash). A cursor edited, forged, or
 * taken from another query (another {@code limit}, another route) is refused with 400. One KMS
 * GenerateMac per page answered and per cursor checked.
 */
public final class ClientListService {
    static final String PURPOSE = "clients-cursor";
    private final ClientDirectory directory;
    private final KeyHasher mac;

    public ClientListService(ClientDirectory directory, KeyHasher mac) {
        this.directory = directory;
        this.mac = mac;
    }

    public Map<String, Object> list(Principal caller, int limit, Optional<String> cursor) {
        if (!caller.isAdmin()) throw ApiException.forbidden("The client list is for the admin.");
        String query = "GET /api/clients?limit=" + limit;
        Optional<String> after = cursor.map(c -> open(c, query));
        ClientDirectory.Page page = directory.page(limit, after);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ClientDirectory.Row r : page.rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("client_id", r.clientId());
            row.put("name", r.name());
            row.put("role", r.role());
            row.put("plan", r.plan());
            row.put("disabled", r.disabled());
            row.put("created_at", r.createdAt());
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("clients", rows);
        out.put("next_cursor", page.next().map(id -> seal(query, id)).orElse(null));
        return out;
    }

    String seal(String query, String afterClientId) {
        String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(
                Json.write(Map.of("v", 1, "q", query, "after", afterClientId)));
        return payload + "." + mac.hash(PURPOSE, payload);
    }

    String open(String cursor, String query) {
        int dot = cursor.indexOf('.');
        if (dot <= 0 || cursor.length() > 1024) throw invalid();
        String payload = cursor.substring(0, dot);
        String given = cursor.substring(dot + 1);
        String expected = mac.hash(PURPOSE, payload);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), given.getBytes(StandardCharsets.US_ASCII))) {
            throw invalid();
        }
        JsonNode node;
        try {
            node = Json.readTree(Base64.getUrlDecoder().decode(payload));
        } catch (RuntimeException e) {
            throw invalid();
        }
        if (!query.equals(node.path("q").asText()) || !node.path("after").isTextual()) throw invalid();
        return node.get("after").asText();
    }

    private static ApiException invalid() {
        return ApiException.validation(List.of(new ApiException.FieldError("cursor",
                "is not a cursor this query returned (tampered, expired or from another query)")));
    }
}
