package dev.usagetracker.clients;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading a client ({@code GET /api/clients/me}, admin {@code GET /api/clients/{client_id}}) and the
 * admin's changes ({@code PATCH /api/clients/{client_id}}: plan, disabled, allowed_ips). A change is a
 * revocation: the row is written (its {@code cred_version} bumped) and then announced through {@link
 * CredentialChanges}, so a disable refuses the client's next request everywhere. An admin reading or
 * changing another client's row leaves an audit log line (who, whom, what; never the email).
 */
public final class ClientAdministration {
    private static final Logger AUDIT = LoggerFactory.getLogger("audit");
    private static final Pattern CLIENT_ID = Pattern.compile("[a-z0-9_-]{3,64}");
    private static final int MAX_ALLOWED_IPS = 50;

    private final ClientStore store;
    private final FieldCipher cipher;
    private final Predicate<String> planExists;
    private final CredentialChanges changes;
    private final Clock clock;

    /** {@code PATCH /api/clients/{client_id}}; absent fields stay as they are. */
    public record AdminPatch(String plan, Boolean disabled, List<String> allowedIps) {}

    public ClientAdministration(ClientStore store, FieldCipher cipher, Predicate<String> planExists,
                                CredentialChanges changes, Clock clock) {
        this.store = store;
        this.cipher = cipher;
        this.planExists = planExists;
        this.changes = changes;
        this.clock = clock;
    }

    /** The caller's own row. */
    public ClientView own(Principal caller) {
        Client client = store.find(caller.clientId()).orElseThrow(() -> ApiException.unauthorized("The client no longer exists."));
        return view(client);
    }

    /** Any client's row, for an admin. */
    public ClientView get(Principal caller, String clientId) {
        requireAdmin(caller);
        Client client = find(clientId);
        if (!client.clientId().equals(caller.clientId())) {
            AUDIT.info("admin {} read client {}", caller.clientId(), client.clientId());
        }
        return view(client);
    }

    public ClientView update(Principal caller, String clientId, JsonNode body, String sourceIp) {
        requireAdmin(caller);
        validId(clientId);
        AdminPatch patch = Json.bind(body, AdminPatch.class);
        List<FieldError> errors = new ArrayList<>();
        if (patch.plan() == null && patch.disabled() == null && patch.allowedIps() == null) {
            throw ApiException.validation(List.of(new FieldError("body", "must change at least one of plan, disabled, allowed_ips")));
        }
        if (patch.plan() != null && !planExists.test(patch.plan())) {
            errors.add(new FieldError("plan", "is not a known plan"));
        }
        List<String> blocks = null;
        if (patch.allowedIps() != null) {
            if (patch.allowedIps().size() > MAX_ALLOWED_IPS) {
                errors.add(new FieldError("allowed_ips", "must have at most " + MAX_ALLOWED_IPS + " entries"));
            } else {
                blocks = new ArrayList<>();
                for (int i = 0; i < patch.allowedIps().size(); i++) {
                    int index = i;
                    List<String> into = blocks;
                    Cidr.normalize(patch.allowedIps().get(i)).ifPresentOrElse(into::add, () -> errors.add(
                            new FieldError("allowed_ips[" + index + "]", "must be an IPv4 or IPv6 address or CIDR block")));
                }
                if (errors.isEmpty() && clientId.equals(caller.clientId()) && !blocks.isEmpty() && !Cidr.anyContains(blocks, sourceIp)) {
                    errors.add(new FieldError("allowed_ips", "must include the address this request comes from (" + sourceIp + ")"));
                }
            }
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        if (Boolean.TRUE.equals(patch.disabled()) && AdminBootstrap.ADMIN_CLIENT_ID.equals(clientId)) {
            throw ApiException.conflict("The bootstrap admin cannot be disabled.");
        }
        find(clientId); // 404 before writing
        Client changed = store.administer(clientId, new AdminChange(Optional.ofNullable(patch.plan()),
                        Optional.ofNullable(patch.disabled()), Optional.ofNullable(blocks)), clock.instant())
                .orElseThrow(() -> ApiException.notFound("No client " + clientId + "."));
        changes.changed(clientId);
        AUDIT.info("admin {} changed client {}: plan={} disabled={} allowed_ips={}", caller.clientId(), clientId,
                patch.plan() != null ? patch.plan() : "-", patch.disabled() != null ? patch.disabled() : "-",
                blocks != null ? blocks.size() + " blocks" : "-");
        return view(changed);
    }

    private Client find(String clientId) {
        validId(clientId);
        return store.find(clientId).filter(c -> !c.credentials().erasing())
                .orElseThrow(() -> ApiException.notFound("No client " + clientId + "."));
    }

    private static void validId(String clientId) {
        if (clientId == null || !CLIENT_ID.matcher(clientId).matches()) {
            throw ApiException.validation(List.of(new FieldError("client_id", "must match [a-z0-9_-]{3,64}")));
        }
    }

    private static void requireAdmin(Principal caller) {
        if (!caller.isAdmin()) throw ApiException.forbidden("Only an admin may read or change other clients.");
    }

    private ClientView view(Client client) {
        String email = store.emailCiphertext(client.clientId())
                .map(c -> new String(cipher.decrypt(c, client.clientId()), StandardCharsets.UTF_8)).orElse(null);
        return new ClientView(client.clientId(), client.name(), email, client.role().wireName(), client.plan(),
                client.credentials().disabled(), client.allowedIps(), client.createdAt().toString());
    }
}
