package dev.usagetracker.clients;

import dev.usagetracker.auth.ApiKeys;
import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** What a client changes about itself: its API key (with a grace period) and its IP allowlist. */
public final class ClientSettingsService {
    public static final Duration DEFAULT_GRACE = Duration.ofHours(24);
    public static final Duration MAX_GRACE = Duration.ofDays(7);
    private static final int MAX_ALLOWED_IPS = 50;

    private final ClientStore store;
    private final KeyHasher hasher;
    private final FieldCipher cipher;
    private final Clock clock;
    private final CredentialChanges changes;

    public ClientSettingsService(ClientStore store, KeyHasher hasher, FieldCipher cipher, Clock clock) {
        this(store, hasher, cipher, clock, CredentialChanges.none());
    }

    /** {@code changes} announces every key rotation and allowlist change as a revocation. */
    public ClientSettingsService(ClientStore store, KeyHasher hasher, FieldCipher cipher, Clock clock,
                                 CredentialChanges changes) {
        this.store = store;
        this.hasher = hasher;
        this.cipher = cipher;
        this.clock = clock;
        this.changes = changes;
    }

    /** {@code POST /api/keys/rotate}: body {@code {"grace_seconds"?: 0..604800}}. */
    public record RotationRequest(Long graceSeconds) {}

    /** The new key, shown once, and until when the previous one still works. */
    public record RotatedKey(String clientId, String apiKey, String previousKeyExpiresAt) {}

    /** {@code PATCH /api/clients/me}. */
    public record SettingsRequest(List<String> allowedIps) {}

    public record Settings(String clientId, String name, List<String> allowedIps) {}

    public RotatedKey rotateKey(Principal caller, RotationRequest request) {
        long grace = request == null || request.graceSeconds() == null ? DEFAULT_GRACE.toSeconds() : request.graceSeconds();
        if (grace < 0 || grace > MAX_GRACE.toSeconds()) {
            throw ApiException.validation(List.of(new FieldError("grace_seconds", "must be from 0 to " + MAX_GRACE.toSeconds())));
        }
        String currentHash = store.currentApiKeyHash(caller.clientId())
                .orElseThrow(() -> ApiException.unauthorized("The client no longer exists."));
        // The rotation replaces the key the caller presented, never one another rotation just issued: of
        // concurrent rotations with one key, one wins and the others are told so (the row is read fresh).
        if (caller.akh() == null || !caller.akh().equals(Credentials.keyId(currentHash))) {
            throw ApiException.conflict("Another key rotation for this client finished first; use the key it returned.");
        }
        String apiKey = ApiKeys.generate();
        Instant until = clock.instant().truncatedTo(ChronoUnit.SECONDS).plusSeconds(grace);
        try {
            store.rotateApiKey(caller.clientId(), currentHash, hasher.hash(ApiKeys.HASH_PURPOSE, apiKey),
                    cipher.encrypt(apiKey.getBytes(StandardCharsets.UTF_8), caller.clientId()), until);
        } catch (ClientStore.DuplicateClientException e) {
            throw ApiException.conflict("Another key rotation for this client finished first; use the key it returned.");
        }
        // With no grace the old key and every token it minted stop now, everywhere; with a grace period
        // they stop at its recorded end (every authentication compares that instant).
        changes.changed(caller.clientId());
        return new RotatedKey(caller.clientId(), apiKey, until.toString());
    }

    public Settings update(Principal caller, SettingsRequest request, String sourceIp) {
        if (request.allowedIps() == null) {
            throw ApiException.validation(List.of(new FieldError("allowed_ips", "is required (an empty list allows any address)")));
        }
        if (request.allowedIps().size() > MAX_ALLOWED_IPS) {
            throw ApiException.validation(List.of(new FieldError("allowed_ips", "must have at most " + MAX_ALLOWED_IPS + " entries")));
        }
        List<FieldError> errors = new ArrayList<>();
        List<String> blocks = new ArrayList<>();
        for (int i = 0; i < request.allowedIps().size(); i++) {
            int index = i;
            Cidr.normalize(request.allowedIps().get(i)).ifPresentOrElse(blocks::add, () -> errors.add(
                    new FieldError("allowed_ips[" + index + "]", "must be an IPv4 or IPv6 address or CIDR block")));
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        // A list that excludes the caller's own address would lock it out with this very request.
        if (!blocks.isEmpty() && !Cidr.anyContains(blocks, sourceIp)) {
            throw ApiException.validation(List.of(new FieldError("allowed_ips",
                    "must include the address this request comes from (" + sourceIp + ")")));
        }
        Client client = store.find(caller.clientId()).orElseThrow(() -> ApiException.unauthorized("The client no longer exists."));
        store.updateAllowedIps(client.clientId(), blocks);
        changes.changed(client.clientId());
        return new Settings(client.clientId(), client.name(), List.copyOf(blocks));
    }
}
