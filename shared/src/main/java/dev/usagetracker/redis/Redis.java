package dev.usagetracker.redis;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container's one Redis connection (Lettuce multiplexes every command over it, so commands sent
 * without waiting are pipelined), behind a circuit breaker. Every outage looks the same to callers:
 * {@link UnavailableException}, at once when the breaker is open, after at most the command timeout
 * otherwise. Rate limits use it now; counters, the response cache and pub/sub are meant to as well.
 */
public final class Redis implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Redis.class);

    /** Redis could not answer: down, unreachable, too slow, or the breaker is open. */
    public static final class UnavailableException extends RuntimeException {
        public UnavailableException(String message, Throwable cause) {
            super(message, cause, false, false);
        }

        /** True when the breaker refused the call without touching the network. */
        public boolean breakerOpen() {
            return getCause() instanceof CallNotPermittedException;
        }
    }

    private final RedisSettings settings;
    private final ClientResources resources;
    private final RedisClient client;
    private final CircuitBreaker breaker;
    private volatile StatefulRedisConnection<String, String> connection;
    /** False until a command has succeeded: the first ones on a cold JVM are slow with class loading. */
    private volatile boolean warm;

    /** Builds the client; the connection is opened by the first command, so a cold start never waits on Redis. */
    public Redis(String url, RedisSettings settings) {
        this.settings = settings;
        RedisURI uri = RedisURI.create(url);
        // The URI's timeout bounds the connection handshake (HELLO, AUTH), which on a cold JVM is mostly
        // class loading: give it the connect budget; commands get the short one through TimeoutOptions.
        uri.setTimeout(settings.connectTimeout());
        // A Lambda container serves one request at a time: Lettuce's minimum of two threads is plenty.
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // While reconnecting, fail at once instead of queueing commands behind a dead socket.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.builder().timeoutCommands().timeoutSource(new TimeoutOptions.TimeoutSource() {
                    @Override
                    public long getTimeout(RedisCommand<?, ?, ?> command) {
                        return (warm ? settings.commandTimeout() : settings.connectTimeout()).toMillis();
                    }

                    @Override
                    public TimeUnit getTimeUnit() {
                        return TimeUnit.MILLISECONDS;
                    }
                }).build())
                .socketOptions(SocketOptions.builder().connectTimeout(settings.connectTimeout()).build())
                .build());
        this.breaker = CircuitBreaker.of("redis", CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(10)
                .minimumNumberOfCalls(5)
                .failureRateThreshold(50)
                .waitDurationInOpenState(settings.breakerOpen())
                .permittedNumberOfCallsInHalfOpenState(2)
                // A script missing from the cache (Redis restarted) is answered by EVAL; not an outage.
                .ignoreExceptions(RedisNoScriptException.class)
                .writableStackTraceEnabled(false)
                .build());
        breaker.getEventPublisher().onStateTransition(e ->
                LOG.warn("redis circuit breaker {}", e.getStateTransition()));
    }

    /** A key under this deployment's prefix: {@code prefix + parts joined by ':'}. */
    public String key(String... parts) {
        return settings.keyPrefix() + String.join(":", parts);
    }

    public CircuitBreaker.State breakerState() {
        return breaker.getState();
    }

    /**
     * Sends one command without waiting for it; issue several before joining them to pipeline them on
     * the connection. The future fails with {@link UnavailableException}.
     */
    public <T> CompletableFuture<T> submit(Function<RedisAsyncCommands<String, String>, RedisFuture<T>> command) {
        if (!breaker.tryAcquirePermission()) {
            return CompletableFuture.failedFuture(new UnavailableException("redis circuit breaker is open",
                    CallNotPermittedException.createCallNotPermittedException(breaker)));
        }
        long start = System.nanoTime();
        CompletableFuture<T> sent;
        try {
            sent = command.apply(connection().async()).toCompletableFuture();
        } catch (RuntimeException e) {
            breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
            return CompletableFuture.failedFuture(unavailable(e));
        }
        return sent.handle((value, failure) -> {
            long took = System.nanoTime() - start;
            if (failure == null) {
                warm = true;
                breaker.onSuccess(took, TimeUnit.NANOSECONDS);
                return value;
            }
            Throwable cause = unwrap(failure);
            breaker.onError(took, TimeUnit.NANOSECONDS, cause);
            if (cause instanceof RedisNoScriptException noScript) throw noScript;
            throw unavailable(cause);
        });
    }

    /** Sends one command and waits for its answer (bounded by the command timeout). */
    public <T> T call(Function<RedisAsyncCommands<String, String>, RedisFuture<T>> command) {
        return await(submit(command));
    }

    /** Waits for a submitted command; failures surface as {@link UnavailableException}. */
    public <T> T await(CompletableFuture<T> future) {
        try {
            // Lettuce times commands out itself; this bound only guards against a lost completion.
            return future.get(settings.commandTimeout().toMillis() * 2 + settings.connectTimeout().toMillis() * 2,
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof RuntimeException r && (r instanceof UnavailableException || r instanceof RedisNoScriptException)) {
                throw r;
            }
            throw unavailable(cause);
        } catch (TimeoutException e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(e);
        }
    }

    private StatefulRedisConnection<String, String> connection() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            synchronized (this) {
                c = connection;
                if (c == null) {
                    c = client.connect();
                    connection = c;
                }
            }
        }
        return c;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static UnavailableException unavailable(Throwable cause) {
        if (cause instanceof UnavailableException u) return u;
        // The URL can carry a password: name the failure, never the endpoint.
        return new UnavailableException("redis unavailable: " + cause.getClass().getSimpleName(), cause);
    }

    @Override
    public void close() {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) c.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
