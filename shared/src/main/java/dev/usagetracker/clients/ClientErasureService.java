package dev.usagetracker.clients;

import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.erasure.ErasureQueue;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import java.time.Clock;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DELETE /api/clients/me} (the API key itself) and the admin's {@code DELETE
 * /api/clients/{client_id}}: marks the row {@code status=erasing} (a revocation: {@code cred_version}
 * bumped, announced through {@link CredentialChanges}, so every key and token of the client is refused on
 * its next request) and queues the asynchronous erasure ({@code dev.usagetracker.erasure.ClientEraser}).
 * Asking again while it is erasing answers the same and queues it again (a lost or dead-lettered erasure
 * is retried that way). The bootstrap admin cannot be erased.
 */
public final class ClientErasureService {
    private static final Logger AUDIT = LoggerFactory.getLogger("audit");
    private static final Pattern CLIENT_ID = Pattern.compile("[a-z0-9_-]{3,64}");

    private final ClientStore store;
    private final ErasureQueue queue;
    private final CredentialChanges changes;
    private final Clock clock;
    private final int delaySeconds;

    /** The 202 body. */
    public record Erasure(String clientId, String status) {}

    public ClientErasureService(ClientStore store, ErasureQueue queue, CredentialChanges changes, Clock clock, int delaySeconds) {
        this.store = store;
        this.queue = queue;
        this.changes = changes;
        this.clock = clock;
        this.delaySeconds = delaySeconds;
    }

    /** The caller erases itself (authenticated with its API key). */
    public Erasure eraseOwn(Principal caller) {
        return erase(caller, caller.clientId());
    }

    /** An admin erases another client. */
    public Erasure eraseOther(Principal caller, String clientId) {
        if (!caller.isAdmin()) throw ApiException.forbidden("Only an admin may erase other clients.");
        if (clientId == null || !CLIENT_ID.matcher(clientId).matches()) {
            throw ApiException.validation(List.of(new FieldError("client_id", "must match [a-z0-9_-]{3,64}")));
        }
        return erase(caller, clientId);
    }

    private Erasure erase(Principal caller, String clientId) {
        if (AdminBootstrap.ADMIN_CLIENT_ID.equals(clientId)) {
            throw ApiException.conflict("The bootstrap admin cannot be erased.");
        }
        store.markErasing(clientId, clock.instant())
                .orElseThrow(() -> ApiException.notFound("No client " + clientId + "."));
        changes.changed(clientId);
        queue.enqueue(clientId, delaySeconds);
        AUDIT.info("client {} erasure requested by {}", clientId, caller.clientId());
        return new Erasure(clientId, Credentials.ERASING);
    }
}
