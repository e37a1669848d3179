package dev.usagetracker.erasure;

import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one queued erasure (the erasure function). The row was marked {@code status=erasing} when the
 * erasure was requested, so nothing authenticates as the client and the hit consumer's transactions,
 * conditional on the row being active, commit nothing of it. Order: Redis, usage data, owned items
 * (guards, idempotency, webhook), Redis again (a mirror written by a batch that committed just before
 * the mark), and the row last: a failure at any step leaves the row {@code erasing}, the message is
 * delivered again and every step is repeated harmlessly. An absent row means a repeated delivery of a
 * finished erasure: nothing is done (the id may already belong to a new registration).
 */
public final class ClientEraser {
    private static final Logger AUDIT = LoggerFactory.getLogger("audit");
    private static final Logger LOG = LoggerFactory.getLogger(ClientEraser.class);
    private static final java.util.regex.Pattern CLIENT_ID = java.util.regex.Pattern.compile("[a-z0-9_-]{3,64}");

    private final ClientStore clients;
    private final ErasureStore store;
    private final RedisErasure redis;

    public record Result(String clientId, boolean erased, long items, long redisKeys) {}

    public ClientEraser(ClientStore clients, ErasureStore store, RedisErasure redis) {
        this.clients = clients;
        this.store = store;
        this.redis = redis;
    }

    public Result erase(String clientId) {
        Optional<Client> row = clients.find(clientId);
        if (row.isEmpty()) {
            // The row goes last, so its absence means a finished erasure: a repeated message must not sweep
            // again, or it could delete the items of a client that registered the id since.
            LOG.info("erasure of client {} already complete", clientId);
            return new Result(clientId, false, 0, 0);
        }
        if (!row.get().credentials().erasing()) {
            // Only a row marked by DELETE /api/clients/... is erased; anything else is a forged or stale message.
            AUDIT.warn("erasure of client {} skipped: its row is not marked erasing", clientId);
            return new Result(clientId, false, 0, 0);
        }
        long keys = redis.erase(clientId);
        long items = store.deleteUsage(clientId);
        items += store.deleteOwnedItems(clientId);
        keys += redis.erase(clientId);
        if (store.deleteErasingRow(clientId)) items++;
        AUDIT.info("client {} erased: {} items, {} redis keys", clientId, items, keys);
        return new Result(clientId, true, items, keys);
    }

    /**
     * A batch of queue messages {@code {"client_id":…}} by message id; returns the ids to deliver again
     * (a failed erasure is retried by SQS and lands in the dead-letter queue after its last attempt).
     */
    public java.util.Set<String> process(java.util.Map<String, String> bodies) {
        java.util.Set<String> failed = new java.util.LinkedHashSet<>();
        bodies.forEach((messageId, body) -> {
            try {
                var node = dev.usagetracker.http.Json.readTree(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                String clientId = node.path("client_id").asText("");
                if (!CLIENT_ID.matcher(clientId).matches()) {
                    LOG.error("erasure message {} names no valid client; leaving it for the dead-letter queue", messageId);
                    failed.add(messageId);
                    return;
                }
                erase(clientId);
            } catch (RuntimeException e) {
                LOG.warn("erasure message {} failed ({}); SQS will deliver it again", messageId, e.getClass().getSimpleName());
                failed.add(messageId);
            }
        });
        return failed;
    }
}
