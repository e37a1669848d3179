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
 */
public record StreamSettings(String connectionsTable, Optional<URI> callbackUrl, Duration heartbeat, Duration retry,
                             int maxStreams, int maxStreamsPerClient, int queueCapacity) {

    public static StreamSettings from(Map<String, String> env) {
        String callback = env.getOrDefault("WEBSOCKET_CALLBACK_URL", "").trim();
        return new StreamSettings(
                env.getOrDefault("CONNECTIONS_TABLE", "ConnectionsTable"),
                callback.isEmpty() ? Optional.empty() : Optional.of(URI.create(callback)),
                Duration.ofMillis(Math.round(positiveDecimal(env, "SSE_HEARTBEAT_SECONDS", 15) * 1000)),
                Duration.ofMillis((long) positiveDecimal(env, "SSE_RETRY_MS", 3000)),
                (int) positiveDecimal(env, "SSE_MAX_STREAMS", 1000),
                (int) positiveDecimal(env, "SSE_MAX_STREAMS_PER_CLIENT", 10),
                (int) positiveDecimal(env, "SSE_QUEUE_CAPACITY", 1000));
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
}
