package dev.usagetracker.clients;

import dev.usagetracker.auth.ApiKeys;
import dev.usagetracker.auth.Role;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.crypto.KeyHasher;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;

/**
 * Makes sure the client {@code admin} exists with role admin and answers to the given key. Safe to run
 * on every start: an existing admin keeps its row and only has its key replaced if it changed.
 */
public final class AdminBootstrap {
    public static final String ADMIN_CLIENT_ID = "admin";

    private final ClientStore store;
    private final RegistrationService registration;
    private final KeyHasher hasher;
    private final FieldCipher cipher;
    private final Clock clock;

    public AdminBootstrap(ClientStore store, RegistrationService registration, KeyHasher hasher,
                          FieldCipher cipher, Clock clock) {
        this.store = store;
        this.registration = registration;
        this.hasher = hasher;
        this.cipher = cipher;
        this.clock = clock;
    }

    public void ensureAdmin(String apiKey, String email) {
        if (!ApiKeys.isPlausible(apiKey)) {
            throw new IllegalArgumentException("ADMIN_API_KEY must be 16-128 characters of [A-Za-z0-9_.~-]");
        }
        String keyHash = hasher.hash(ApiKeys.HASH_PURPOSE, apiKey);
        if (store.findByApiKeyHash(keyHash).map(c -> c.clientId().equals(ADMIN_CLIENT_ID)).orElse(false)) {
            return;
        }
        if (store.find(ADMIN_CLIENT_ID).isPresent()) {
            store.replaceApiKey(ADMIN_CLIENT_ID, keyHash,
                    cipher.encrypt(apiKey.getBytes(StandardCharsets.UTF_8), ADMIN_CLIENT_ID));
        } else {
            registration.create(ADMIN_CLIENT_ID, "Administrator", Role.ADMIN, List.of(), clock.instant(), email, apiKey);
        }
    }
}
