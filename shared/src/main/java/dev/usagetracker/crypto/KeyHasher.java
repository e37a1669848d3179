package dev.usagetracker.crypto;

/**
 * Keyed hashes for looking secrets up without storing them: the same input always gives the same
 * hash, and without the key (held by KMS) a leaked table cannot be searched for a known email.
 */
public interface KeyHasher {
    /** Hex HMAC-SHA-256 of {@code value} within {@code purpose} (so an email hash never equals a key hash). */
    String hash(String purpose, String value);
}
