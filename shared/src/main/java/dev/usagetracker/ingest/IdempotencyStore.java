package dev.usagetracker.ingest;

import java.time.Instant;
import java.util.OptionalInt;

/**
 * Durable memory of {@code Idempotency-Key}s (24 h). A key is claimed once with the batch id and
 * receive time its hits travel under; every later request with that key re-uses them, so even a retry
 * of a request whose first attempt half-landed produces the same raw-hit items and the ledger counts
 * them once. {@code accepted} is set when the first attempt was acknowledged.
 */
public interface IdempotencyStore {

    record Entry(String requestHash, String batchId, Instant receivedAt, OptionalInt accepted) {}

    /** Stores {@code proposed} unless an unexpired entry exists for the key; returns the entry in force. */
    Entry claim(String clientId, String key, Entry proposed, Instant now);

    /** Records that the request was acknowledged with {@code accepted} hits, so replays answer at once. */
    void complete(String clientId, String key, Entry entry, int accepted);

    /** The unexpired entry for a key, if any (a consistent read; no claim). */
    default java.util.Optional<Entry> find(String clientId, String key, Instant now) {
        return java.util.Optional.empty();
    }

    /** For compositions without a store: a request that carries a key is refused rather than not deduplicated. */
    IdempotencyStore NONE = new IdempotencyStore() {
        @Override
        public Entry claim(String clientId, String key, Entry proposed, Instant now) {
            throw new IllegalStateException("no idempotency store configured");
        }

        @Override
        public void complete(String clientId, String key, Entry entry, int accepted) {
            throw new IllegalStateException("no idempotency store configured");
        }
    };
}
