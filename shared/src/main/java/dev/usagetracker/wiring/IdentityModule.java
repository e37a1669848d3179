package dev.usagetracker.wiring;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.auth.RedisCredentialChanges;
import dev.usagetracker.auth.TokenService;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.crypto.EnvelopeCipher;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.crypto.KmsKeyHasher;
import dev.usagetracker.crypto.KmsSigningKeys;
import dev.usagetracker.crypto.SigningKeys;
import dev.usagetracker.store.DynamoClientStore;
import java.util.function.Supplier;

/**
 * Who a caller is: the client rows, the KMS keys that hash API keys, seal fields and sign tokens, and the
 * authenticator with its revocation signal. Every authenticated route and most services stand on it.
 */
public final class IdentityModule {
    private final Lazy<KeyHasher> hasher;
    private final Lazy<FieldCipher> cipher;
    private final Lazy<SigningKeys> signingKeys;
    private final Lazy<ClientStore> clientStore;
    private final Lazy<TokenService> tokens;
    private final Lazy<CredentialChanges> credentialChanges;
    private final Lazy<Authenticator> authenticator;

    public IdentityModule(Clients clients) {
        var config = clients.config();
        var clock = clients.clock();
        hasher = new Lazy<>(() -> new KmsKeyHasher(clients.kms(), config.macKeyId()));
        cipher = new Lazy<>(() -> new EnvelopeCipher(clients.kms(), config.dataKeyId(), clock));
        signingKeys = new Lazy<>(() -> new KmsSigningKeys(clients.kms(), config.signingKeyId()));
        clientStore = new Lazy<>(() -> new DynamoClientStore(clients.dynamo(), config.clientsTable(), clock));
        tokens = new Lazy<>(() -> new TokenService(signingKeys.get(), config.jwtIssuer(), config.jwtAudience(),
                config.tokenTtl(), clock));
        // The revocation signal (docs/security.md): one per container, read on every authentication.
        credentialChanges = new Lazy<>(new Supplier<>() {
            @Override
            public CredentialChanges get() {
                return new RedisCredentialChanges(clients.redis(), id -> clientStore.get().find(id)
                        .map(c -> c.credentials().version()).orElse(-1L));
            }
        });
        authenticator = new Lazy<>(() -> new Authenticator(clientStore.get(), hasher.get(), tokens.get(),
                config.adminAllowedCidrs(), clock, config.authCacheTtl(), credentialChanges.get()));
    }

    /** HMAC of API keys and emails with the KMS MAC key. */
    public KeyHasher hasher() { return hasher.get(); }
    /** Envelope encryption of stored secrets and emails. */
    public FieldCipher cipher() { return cipher.get(); }
    public SigningKeys signingKeys() { return signingKeys.get(); }
    public ClientStore clientStore() { return clientStore.get(); }
    public TokenService tokens() { return tokens.get(); }
    /** Announces a credential change of a client to every container (after the row was written). */
    public CredentialChanges credentialChanges() { return credentialChanges.get(); }
    public Authenticator authenticator() { return authenticator.get(); }
}
