package dev.usagetracker.clients;

import java.time.Instant;

/**
 * What the Clients row says about a client's credentials, the truth every authentication checks
 * (docs/security.md, "Revocation"): the ids of its valid API keys ({@code akh}: the first 16 hex
 * characters of a key's lookup HMAC, not secret), whether it is disabled or being erased, the instant
 * before which its access tokens are void, and the version bumped on every credential change.
 */
public record Credentials(String currentKeyId, String previousKeyId, long previousKeyExpiresAt, boolean disabled,
                          String status, long tokensValidAfter, long version) {
    public static final String ACTIVE = "active";
    public static final String ERASING = "erasing";
    /** A row without credential attributes: no key is valid (unit-test clients built by hand). */
    public static final Credentials NONE = new Credentials(null, null, 0, false, ACTIVE, 0, 0);
    private static final int KEY_ID_LENGTH = 16;

    public Credentials {
        status = status == null ? ACTIVE : status;
    }

    /** The short, non-secret id of an API key, from its lookup hash. */
    public static String keyId(String apiKeyHash) {
        return apiKeyHash == null ? null : apiKeyHash.substring(0, Math.min(KEY_ID_LENGTH, apiKeyHash.length()));
    }

    /** Whether the key with this id is the current one, or the previous one before its grace period ended. */
    public boolean keyValid(String keyId, Instant now) {
        if (keyId == null) return false;
        if (keyId.equals(currentKeyId)) return true;
        return keyId.equals(previousKeyId) && now.getEpochSecond() < previousKeyExpiresAt;
    }

    public boolean erasing() {
        return ERASING.equals(status);
    }
}
