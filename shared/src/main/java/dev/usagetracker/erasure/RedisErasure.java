package dev.usagetracker.erasure;

/** The Redis side of an erasure: every key that names the client, and its entries in shared keys. */
public interface RedisErasure {
    /** Returns how many keys were deleted (shared keys it was removed from are not counted). */
    long erase(String clientId);

    RedisErasure NONE = clientId -> 0;
}
