package dev.usagetracker.realtime;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Live updates: where WebSocket connections are kept and pushed to, and how long-lived SSE streams
 * behave in a process that serves them.
 *
 * @param connectionsTable     the WebSocket connections table ({@code CONNECTIONS_TABLE})
 * @param callbackUrl          the WebSocket API's {@code @connections} endpoint, https://{api}.execute-api.{region}.amazonaws.com/{stage}
 *                             ({@code WEBSOCKET_CALLBACK_URL}); only the fan-out function needs it
 * @param heartbeat            an SSE comment this often keeps proxies from closing an idle stream and finds
 *                             clients that left ({@code SSE_HEARTBEAT_SECONDS}, default 15)
 * @param retry                the reconnection delay SSE clients are told ({@code SSE_RETRY_MS}, default 3000)
 * @param maxStreams           open SSE streams per process ({@code SSE_MAX_STREAMS}, default 1000)
 * @param maxStreamsPerClient  open SSE streams per client ({@code SSE_MAX_STREAMS_PER_CLIENT}, default 10)
 * @param queueCapacity        updates buffered for one stream; a stream that falls further behind is closed
 *                             and resumes with Last-Event-ID ({@code SSE_QUEUE_CAPACITY}, default 1000)
 * @param recheck              how often an open stream (SSE, the local WebSocket emulation) asks the
 *                             Authenticator again whether its viewer may still read ({@code STREAM_RECHECK_SECONDS},
 *                             default 4, at most 5: with the check and the close, a revocation ends an open
 *                             stream within 5 s)
 * @param callbackSecret       the shared secret the local runtime's {@code @connections} endpoint requires
 *                             ({@code WEBSOCKET_CALLBACK_SECRET}; set by the local runtime for the functions it
 *                             runs, never on AWS, where the management API takes SigV4)
 */
public record StreamSettings(String connectionsTable, Optional<URI> callbackUrl, Duration heartbeat, Duration retry,
                             int maxStreams, int maxStreamsPerClient, int queueCapacity, Duration recheck,
                             Optional<String> callbackSecret) {
    /** The longest delay between two checks of an open stream's credential (DESIGN.md §2a: revocation within 5 s). */
    public static final Duration MAX_RECHECK = Duration.ofSeconds(5);
    /** The default leaves a second for the check itself (one consistent read) and the close. */
    public static final Duration DEFAULT_RECHECK = Duration.ofSeconds(4);
    /** The header carrying {@link #callbackSecret} to the local {@code @connections} endpoint. */
    public static final String CALLBACK_SECRET_HEADER = "X-Local-Connections-Secret";
    /** Open SSE streams, and open WebSocket connections, one client may hold. */
    public static final int DEFAULT_MAX_STREAMS_PER_CLIENT = 10;

    public static StreamSettings from(Map<String, String> env) {
        String callback = env.getOrDefault("WEBSOCKET_CALLBACK_URL", "").trim();
        return new StreamSettings(
                env.getOrDefault("CONNECTIONS_TABLE", "ConnectionsTable"),
                callback.isEmpty() ? Optional.empty() : Optional.of(URI.create(callback)),
                Duration.ofMillis(Math.round(positiveDecimal(env, "SSE_HEARTBEAT_SECONDS", 15) * 1000)),
                Duration.ofMillis((long) positiveDecimal(env, "SSE_RETRY_MS", 3000)),
                (int) positiveDecimal(env, "SSE_MAX_STREAMS", 1000),
                (int) positiveDecimal(env, "SSE_MAX_STREAMS_PER_CLIENT", DEFAULT_MAX_STREAMS_PER_CLIENT),
                (int) positiveDecimal(env, "SSE_QUEUE_CAPACITY", 1000),
                recheck(env),
                Optional.ofNullable(env.get("WEBSOCKET_CALLBACK_SECRET")).map(String::trim).filter(v -> !v.isEmpty()));
    }

    private static Duration recheck(Map<String, String> env) {
        Duration recheck = Duration.ofMillis(Math.round(positiveDecimal(env, "STREAM_RECHECK_SECONDS",
                DEFAULT_RECHECK.toSeconds()) * 1000));
        if (recheck.compareTo(MAX_RECHECK) > 0) {
            throw new IllegalArgumentException("STREAM_RECHECK_SECONDS must be at most " + MAX_RECHECK.toSeconds());
        }
        return recheck;
    }

    private static double positiveDecimal(Map<String, String> env, String name, double fallback) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) return fallback;
        double value;
        try {
            value = Double.parseDouble(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, not '" + raw + "'");
        }
        if (!(value > 0)) throw new IllegalArgumentException(name + " must be positive");
        return value;
    }

    /** Never prints the callback secret (a settings object may end up in a log line). */
    @Override
    public String toString() {
        return "StreamSettings[connectionsTable=" + connectionsTable + ", callbackUrl=" + callbackUrl + ", heartbeat=" + heartbeat
                + ", retry=" + retry + ", maxStreams=" + maxStreams + ", maxStreamsPerClient=" + maxStreamsPerClient
                + ", queueCapacity=" + queueCapacity + ", recheck=" + recheck + ", callbackSecret="
                + (callbackSecret.isPresent() ? "(set)" : "(none)") + "]";
    }
}
