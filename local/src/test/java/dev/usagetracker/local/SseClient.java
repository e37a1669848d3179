package dev.usagetracker.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real Server-Sent Events client for the tests: java.net.http with the body read as it arrives, parsed
 * by the rules of the HTML standard (fields, comments, a blank line dispatches). Closing it drops the
 * connection, as a browser tab that goes away does.
 */
final class SseClient implements AutoCloseable {
    /** A dispatched event. */
    record Event(String id, String event, String data) {}

    /** A comment line (": heartbeat"), kept for the tests that look for heartbeats. */
    record Comment(String text) {}

    /** The retry field. */
    record Retry(long millis) {}

    private static final Object END = new Object();

    private final HttpResponse<InputStream> response;
    private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
    private final Thread reader;
    /** When the server ended the stream (the body reached its end), or null while it is open. */
    private volatile java.time.Instant endedAt;

    private SseClient(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = Thread.ofVirtual().name("sse-test-reader").start(this::read);
    }

    static SseClient connect(HttpClient http, String url, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET().header("Accept", "text/event-stream");
        headers.forEach(b::header);
        try {
            return new SseClient(http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Virtual threads for the client's own work, so that its thread pool does not blur a thread count. */
    static HttpClient http() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()).build();
    }

    int status() {
        return response.statusCode();
    }

    String header(String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    /** The next dispatched event, skipping comments and retry fields. */
    Event nextEvent(Duration within) {
        long end = System.nanoTime() + within.toNanos();
        while (true) {
            Object item = next(end, "an event");
            if (item instanceof Event e) return e;
        }
    }

    /** The next comment, skipping anything else. */
    Comment nextComment(Duration within) {
        long end = System.nanoTime() + within.toNanos();
        while (true) {
            Object item = next(end, "a comment");
            if (item instanceof Comment c) return c;
        }
    }

    /** The first thing the stream says, which must be its retry hint. */
    Retry retry(Duration within) {
        Object item = next(System.nanoTime() + within.toNanos(), "the retry field");
        if (item instanceof Retry r) return r;
        throw new AssertionError("the stream did not start with retry: but with " + item);
    }

    /** Waits until the server ends the stream; when it ended. */
    java.time.Instant awaitEnd(Duration within) {
        long end = System.nanoTime() + within.toNanos();
        while (next(end, "the end of the stream") != END) {
            // skip what comes before the end
        }
        return endedAt;
    }

    private Object next(long end, String what) {
        try {
            long left = end - System.nanoTime();
            Object item = left <= 0 ? items.poll() : items.poll(left, TimeUnit.NANOSECONDS);
            if (item == null) throw new AssertionError("no " + what + " arrived in time");
            if (item == END && !what.equals("the end of the stream")) {
                items.add(END);
                throw new AssertionError("the stream ended before " + what + " arrived");
            }
            return item;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String id = null, event = null;
            StringBuilder data = null;
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) items.add(new Event(id, event == null ? "message" : event, data.toString()));
                    event = null;
                    data = null;
                } else if (line.startsWith(":")) {
                    items.add(new Comment(line.substring(1).strip()));
                } else {
                    int colon = line.indexOf(':');
                    String field = colon < 0 ? line : line.substring(0, colon);
                    String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                    switch (field) {
                        case "id" -> id = value;
                        case "event" -> event = value;
                        case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                        case "retry" -> items.add(new Retry(Long.parseLong(value)));
                        default -> { /* ignored, as the standard says */ }
                    }
                }
            }
        } catch (IOException e) {
            // closed by the test or dropped by the server
        } finally {
            endedAt = java.time.Instant.now();
            items.add(END);
        }
    }

    @Override
    public void close() {
        try {
            response.body().close();
        } catch (IOException ignored) {
            // already gone
        }
        reader.interrupt();
    }
}
