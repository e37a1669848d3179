package dev.usagetracker.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * A Lua script run by its SHA-1 ({@code EVALSHA}, one round trip with a few bytes on the wire); only
 * when Redis does not know it yet (first use, or Redis restarted) is it sent in full with {@code EVAL},
 * which also caches it. Scripts live as resources next to the class that uses them.
 */
public final class RedisScript {
    private final String name;
    private final String body;
    private final String sha1;

    public RedisScript(String name, String body) {
        this.name = name;
        this.body = body;
        this.sha1 = sha1(body);
    }

    public static RedisScript resource(Class<?> owner, String resource) {
        try (InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("script " + resource + " is missing next to " + owner.getName());
            return new RedisScript(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public String sha1() {
        return sha1;
    }

    /** Runs the script; the future fails with {@link Redis.UnavailableException} when Redis cannot. */
    public <T> CompletableFuture<T> run(Redis redis, ScriptOutputType type, String[] keys, String... args) {
        CompletableFuture<T> bySha = redis.submit(c -> c.evalsha(sha1, type, keys, args));
        return bySha.handle((value, failure) -> {
            if (failure == null) return CompletableFuture.completedFuture(value);
            Throwable cause = failure.getCause() != null && !(failure instanceof Redis.UnavailableException)
                    ? failure.getCause() : failure;
            if (cause instanceof RedisNoScriptException) {
                return redis.<T>submit(c -> c.eval(body, type, keys, args));
            }
            return CompletableFuture.<T>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
