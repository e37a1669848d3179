package dev.usagetracker.webhooks;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/** Webhooks, one per client, and the set of admins whose webhook takes every client's events. */
public interface WebhookStore {
    /** Creates or replaces the client's webhook (a new secret, delivery state reset). */
    void put(Webhook webhook);

    Optional<Webhook> find(String clientId);

    /** True if there was one. */
    boolean delete(String clientId);

    /** Client ids of the webhooks with scope {@code all}. */
    Set<String> scopeAll();

    /** Drops a stale entry of {@link #scopeAll()} (its webhook is gone). */
    void forgetScopeAll(String clientId);

    /** Records an attempt's outcome, only on the webhook whose secret was used (a replaced one is left alone). */
    void recordDelivery(String clientId, Instant createdAt, Instant at, String status);

    /** Stops deliveries to the webhook created at {@code createdAt} (not to one that replaced it since). */
    void disable(String clientId, Instant createdAt, String reason);
}
