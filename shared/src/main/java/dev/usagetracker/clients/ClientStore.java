package dev.usagetracker.clients;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

public interface ClientStore {
    /** Which uniqueness rule a registration broke. */
    enum Conflict { CLIENT_ID, EMAIL, API_KEY }

    final class DuplicateClientException extends RuntimeException {
        private final Conflict conflict;

        public DuplicateClientException(Conflict conflict) {
            super("duplicate " + conflict, null, false, false);
            this.conflict = conflict;
        }

        public Conflict conflict() {
            return conflict;
        }
    }

    /** Writes the client atomically with its uniqueness guards; throws {@link DuplicateClientException}. */
    void create(NewClient client);

    Optional<Client> findByApiKeyHash(String apiKeyHash);

    Optional<Client> find(String clientId);

    List<Client> list();

    /** Names of the given clients; unknown ids are absent from the map. */
    Map<String, String> names(Collection<String> clientIds);

    /** Points an existing client at a new API key (the old key stops working). */
    void replaceApiKey(String clientId, String newApiKeyHash, byte[] newApiKeyCiphertext);

    /**
     * Issues a new key; the current one keeps working until {@code previousValidUntil} (immediately
     * invalid if that is not in the future). Fails with {@link DuplicateClientException} of
     * {@link Conflict#API_KEY} if another rotation of the same client won the race.
     */
    void rotateApiKey(String clientId, String currentApiKeyHash, String newApiKeyHash, byte[] newApiKeyCiphertext,
                      java.time.Instant previousValidUntil);

    /** The keyed hash of the client's current API key. */
    Optional<String> currentApiKeyHash(String clientId);

    /** Replaces the client's IP allowlist (normalised CIDR blocks; empty = any address). */
    void updateAllowedIps(String clientId, List<String> allowedIps);

    /**
     * Applies an admin's change to the client row in one conditional update that also bumps its {@code
     * cred_version}; disabling also sets {@code tokens_valid_after} to just after {@code now}, so tokens
     * issued before the disable stay void after a re-enable. Empty when no such client exists.
     */
    Optional<Client> administer(String clientId, AdminChange change, java.time.Instant now);

    /** The client's email, as stored (envelope-encrypted, bound to the client id). */
    Optional<byte[]> emailCiphertext(String clientId);

    /**
     * Marks the client {@code status=erasing} in one conditional update that also bumps its {@code
     * cred_version} and voids every token issued so far; idempotent (an erasing row stays erasing and
     * is returned). Empty when no such client exists.
     */
    default Optional<Client> markErasing(String clientId, java.time.Instant now) {
        throw new UnsupportedOperationException("erasure is not supported by " + getClass().getSimpleName());
    }
}
