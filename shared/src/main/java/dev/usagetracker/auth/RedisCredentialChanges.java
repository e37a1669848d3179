package dev.usagetracker.auth;

import dev.usagetracker.redis.Redis;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CredentialChanges} on Redis: {@code SET <prefix>cred:<client_id> <cred_version>} and {@code
 * PUBLISH <prefix>credentials.changed <client_id>}; every authentication does one {@code GET} of that
 * key. The key has no expiry: one short string per client that ever changed a credential (erasure
 * deletes it with the client's other keys).
 */
public final class RedisCredentialChanges implements CredentialChanges {
    private static final Logger LOG = LoggerFactory.getLogger(RedisCredentialChanges.class);

    private final Optional<Redis> redis;
    private final ToLongFunction<String> versionOf;

    /**
     * @param versionOf the client's {@code cred_version} as the row says now (a consistent read); any
     *                  value works when the row is gone, since readers only compare for inequality
     */
    public RedisCredentialChanges(Optional<Redis> redis, ToLongFunction<String> versionOf) {
        this.redis = redis;
        this.versionOf = versionOf;
    }

    public static String key(Redis redis, String clientId) {
        return redis.key("cred", clientId);
    }

    public static String channel(Redis redis) {
        return redis.key(CHANNEL);
    }

    @Override
    public void changed(String clientId) {
        if (redis.isEmpty()) {
            LOG.warn("credential change of {} not announced: no Redis; containers notice within AUTH_CACHE_SECONDS", clientId);
            return;
        }
        Redis r = redis.get();
        long version;
        try {
            version = versionOf.applyAsLong(clientId);
        } catch (RuntimeException e) {
            // the row could not be read back: any fresh value still makes every reader re-read it
            version = -System.currentTimeMillis();
        }
        String value = Long.toString(version);
        try {
            r.await(r.submit(c -> c.set(key(r, clientId), value)));
            r.await(r.submit(c -> c.publish(channel(r), clientId)));
        } catch (Redis.UnavailableException e) {
            LOG.warn("credential change of {} not announced: redis unavailable ({}); containers notice within AUTH_CACHE_SECONDS",
                    clientId, e.getMessage());
        }
    }

    @Override
    public String observe(String clientId) {
        Redis r = redis.orElseThrow(() -> new Unavailable("no Redis configured", null));
        try {
            return r.call(c -> c.get(key(r, clientId)));
        } catch (Redis.UnavailableException e) {
            throw new Unavailable("redis unavailable", e);
        }
    }
}
