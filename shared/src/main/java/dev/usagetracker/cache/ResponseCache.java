package dev.usagetracker.cache;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Responses;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisScript;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Versioned response cache (DESIGN.md §4). Entries live in Redis under {@code usage:v<e>.<n>:<key>} for
 * an hour, where {@code n} is the current version of the entry's scope (a client, all clients, the
 * ranking) and {@code e} the cache's global epoch; the consumer bumps a scope's version when it commits a
 * change to it, so no read after a committed write can find the old entry, and a bump that could not
 * reach Redis is made up by an epoch bump ({@link CacheEpoch}). Version and entry come back in one round
 * trip (a Lua script).
 * Caffeine keeps the last good answer per key in the container: served, marked STALE, only when the
 * database cannot answer; with Redis down the database answers directly.
 */
public final class ResponseCache {
    private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);
    public static final Duration TTL = Duration.ofHours(1);
    private static final RedisScript VERSIONED_GET = RedisScript.resource(ResponseCache.class, "versioned-get.lua");
    private static final int RETRY_AFTER_SECONDS = 5;

    /** An answer and where it came from: {@code X-Cache} is HIT, MISS or STALE; {@code Age} in seconds. */
    public record Answer(String json, String cacheStatus, long ageSeconds) {
        public Map<String, String> headers() {
            return Map.of("X-Cache", cacheStatus, "Age", Long.toString(ageSeconds));
        }

        /** This answer as a 200 with its X-Cache and Age headers. */
        public APIGatewayV2HTTPResponse response() {
            return Responses.rawJson(200, json, headers());
        }
    }

    private record Entry(long cachedAtMillis, String json) {
        String encode() {
            return cachedAtMillis + "|" + json;
        }

        static Entry decode(String raw) {
            int bar = raw.indexOf('|');
            return new Entry(Long.parseLong(raw.substring(0, bar)), raw.substring(bar + 1));
        }
    }

    private final Optional<Redis> redis;
    private final Clock clock;
    private final Cache<String, Entry> lastGood = Caffeine.newBuilder()
            .maximumSize(2_000).expireAfterWrite(TTL).build();

    public ResponseCache(Optional<Redis> redis, Clock clock) {
        this.redis = redis;
        this.clock = clock;
    }

    public static String versionKey(Redis redis, String scope) {
        return redis.key("usage", "version", scope);
    }

    /** The version entries are cached under: the epoch's and the scope's counters (absent keys are 0). */
    public static String version(Object epoch, Object scopeVersion) {
        return (epoch == null ? "0" : epoch) + "." + (scopeVersion == null ? "0" : scopeVersion);
    }

    /** The cached answer for {@code key} in {@code scope}, or {@code compute}'s, which is then cached. */
    public Answer get(String scope, String key, Supplier<String> compute) {
        String version = null;
        if (redis.isPresent()) {
            try {
                Redis r = redis.get();
                List<Object> found = r.await(VERSIONED_GET.run(r, ScriptOutputType.MULTI,
                        new String[] {versionKey(r, scope), CacheEpoch.key(r)}, r.key("usage", "v"), ":" + key));
                version = String.valueOf(found.get(0));
                if (found.size() > 1 && found.get(1) instanceof String raw) {
                    Entry entry = Entry.decode(raw);
                    lastGood.put(key, entry);
                    return new Answer(entry.json(), "HIT", ageOf(entry));
                }
            } catch (Redis.UnavailableException e) {
                version = null; // the database answers while Redis is away
            }
        }
        String json;
        try {
            json = compute.get();
        } catch (SdkException e) {
            Entry stale = lastGood.getIfPresent(key);
            if (stale != null) {
                LOG.warn("database unavailable ({}); serving a stale answer", e.getClass().getSimpleName());
                return new Answer(stale.json(), "STALE", ageOf(stale));
            }
            throw ApiException.unavailable("Usage cannot be read right now and nothing is cached; retry later.",
                    RETRY_AFTER_SECONDS);
        }
        Entry entry = new Entry(clock.millis(), json);
        lastGood.put(key, entry);
        if (version != null) put(scope, version, key, entry);
        return new Answer(json, "MISS", 0);
    }

    /** Stores an answer under the scope's current {@link #version} (the consumer's refresh after a write). */
    public void put(String scope, String version, String key, String json) {
        put(scope, version, key, new Entry(clock.millis(), json));
    }

    private void put(String scope, String version, String key, Entry entry) {
        redis.ifPresent(r -> {
            try {
                r.call(c -> c.set(r.key("usage", "v") + version + ":" + key, entry.encode(), SetArgs.Builder.ex(TTL)));
            } catch (Redis.UnavailableException e) {
                // not cached this time; the next read computes again
            }
        });
    }

    private long ageOf(Entry entry) {
        return Math.max(0, (clock.millis() - entry.cachedAtMillis()) / 1000);
    }
}
