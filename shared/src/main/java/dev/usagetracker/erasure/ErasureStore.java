package dev.usagetracker.erasure;

/** The DynamoDB side of an erasure (docs/database.md, "Erasure"); every step is idempotent. */
public interface ErasureStore {
    /** Deletes the client's raw hits, daily and hourly aggregates; returns how many items went. */
    long deleteUsage(String clientId);

    /**
     * Deletes every item of the Clients (and Connections) table that belongs to the client except its
     * row: uniqueness guards (email, API keys), idempotency items, items keyed {@code <client_id>#…}.
     */
    long deleteOwnedItems(String clientId);

    /** Deletes the client's row if it still says {@code status=erasing}; false if it was not there. */
    boolean deleteErasingRow(String clientId);
}
