package dev.usagetracker.local;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A real WebSocket client for the tests (java.net.http.WebSocket) that keeps every text message. */
final class WsClient implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    /** Arrived but not yet taken by a matching {@link #next}. */
    private final java.util.List<String> kept = new java.util.ArrayList<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    /** How and when the server closed the socket. */
    record Closing(int code, String reason, java.time.Instant at) {}
    private final CompletableFuture<Closing> closing = new CompletableFuture<>();
    private WebSocket socket;

    private WsClient() {}

    static WsClient connect(String url) {
        WsClient client = new WsClient();
        try {
            client.socket = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(url), client.listener()).get(30, TimeUnit.SECONDS);
            return client;
        } catch (Exception e) {
            throw new AssertionError("websocket handshake failed: " + e, e);
        }
    }

    /** The status of a refused handshake. */
    static int refusal(String url) {
        try {
            WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(URI.create(url), new WebSocket.Listener() {}).get(30, TimeUnit.SECONDS);
            ws.abort();
            throw new AssertionError("the handshake was accepted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) return refused.getResponse().statusCode();
            throw new AssertionError("the handshake failed without an HTTP answer: " + e.getCause(), e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    messages.add(partial.toString());
                    partial.setLength(0);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                closing.complete(new Closing(statusCode, reason, java.time.Instant.now()));
                closed.complete(statusCode);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                closing.complete(new Closing(-1, String.valueOf(error), java.time.Instant.now()));
                closed.complete(-1);
            }
        };
    }

    /**
     * The earliest message not taken yet that matches; others stay for later calls (frames of two
     * sources may arrive in either order). Fails when none comes in time.
     */
    String next(Duration within, Predicate<String> match) {
        long end = System.nanoTime() + within.toNanos();
        try {
            while (true) {
                synchronized (kept) {
                    for (var it = kept.iterator(); it.hasNext(); ) {
                        String m = it.next();
                        if (match.test(m)) {
                            it.remove();
                            return m;
                        }
                    }
                }
                String m = messages.poll(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) throw new AssertionError("no matching websocket message arrived in time; unmatched: " + kept);
                synchronized (kept) {
                    kept.add(m);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    String next(Duration within) {
        return next(within, m -> true);
    }

    void send(String text) {
        socket.sendText(text, true).join();
    }

    /** Waits for the server to close the socket: its close code, reason and when it arrived. */
    Closing awaitClose(Duration within) {
        try {
            return closing.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the server did not close the socket in time");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    boolean isClosed() {
        return closed.isDone();
    }

    @Override
    public void close() {
        if (socket != null && !socket.isOutputClosed()) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
                closed.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                socket.abort();
            }
        }
    }
}
