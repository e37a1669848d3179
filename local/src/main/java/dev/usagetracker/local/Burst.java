package dev.usagetracker.local;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A load burst as a new user's load tool sends it (issue 30): {@code requests} single-hit
 * {@code POST /api/logs} of one API key from {@code connections} concurrent connections, each sent once,
 * while an {@link AuthProbe} asks {@code POST /api/token} every few hundred milliseconds. Used by the
 * burst test (BurstIT) and bench/ingest's burst phase, so both measure the same thing.
 */
public final class Burst {
    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();

    /**
     * What the burst got back. {@code refusals} holds each non-202 answer's status with its
     * RateLimit-Policy or Retry-After (e.g. {@code 429 "ingest-1m";q=500}); -1 is no answer at all.
     */
    public record Result(long requests, long acknowledged, Map<Integer, Long> statuses, Map<String, Long> refusals,
                         double sendSeconds, long missingRetryAfter) {
        public long unacknowledged() { return requests - acknowledged; }
    }

    public Burst(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    /** Sends the burst and returns when every request has its answer. */
    public Result send(String apiKey, int requests, int connections) throws InterruptedException {
        AtomicLong next = new AtomicLong();
        LongAdder acknowledged = new LongAdder();
        LongAdder missingRetryAfter = new LongAdder();
        Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        Map<String, LongAdder> refusals = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            threads.add(Thread.ofPlatform().daemon().name("burst-" + c).start(() -> {
                long i;
                while ((i = next.getAndIncrement()) < requests) {
                    String body = "{\"ip\":\"10." + (i % 250) + ".0." + (1 + i % 250) + "\",\"endpoint\":\"/api/items/"
                            + (i % 100) + "\"}";
                    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/api/logs"))
                            .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                            .header("X-API-Key", apiKey).POST(HttpRequest.BodyPublishers.ofString(body)).build();
                    int status;
                    try {
                        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                        status = r.statusCode();
                        if (status == 202) {
                            acknowledged.increment();
                        } else {
                            String why = r.statusCode() == 429 ? r.headers().firstValue("RateLimit-Policy").orElse("") : "";
                            refusals.computeIfAbsent(status + " " + why, k -> new LongAdder()).increment();
                            if ((status == 429 || status == 503) && r.headers().firstValue("Retry-After").isEmpty()) {
                                missingRetryAfter.increment();
                            }
                        }
                    } catch (IOException e) {
                        status = -1;
                        refusals.computeIfAbsent("-1 " + e.getClass().getSimpleName(), k -> new LongAdder()).increment();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
                }
            }));
        }
        for (Thread t : threads) t.join();
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<Integer, Long> byStatus = new TreeMap<>();
        statuses.forEach((k, v) -> byStatus.put(k, v.sum()));
        Map<String, Long> byReason = new TreeMap<>();
        refusals.forEach((k, v) -> byReason.put(k, v.sum()));
        return new Result(requests, acknowledged.sum(), byStatus, byReason, seconds, missingRetryAfter.sum());
    }

    /**
     * {@code POST /api/token} with one API key, one request at a time every {@code period}: the longest
     * stall is the longest time from a moment the probe wanted an answer to the 200 that followed
     * (a slow 200, or a run of 503s and the 200 after them).
     */
    public static final class AuthProbe implements AutoCloseable {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1).build();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong longestStallNanos = new AtomicLong();
        private final AtomicLong answered = new AtomicLong();
        private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        private final Thread thread;
        private volatile long wantedSince = System.nanoTime();
        private volatile boolean lastOk = true;

        public AuthProbe(String baseUrl, String apiKey, Duration period) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/api/token")).timeout(Duration.ofSeconds(120))
                    .header("Content-Type", "application/json").header("X-API-Key", apiKey)
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build();
            thread = Thread.ofPlatform().daemon().name("auth-probe").start(() -> {
                while (running.get()) {
                    int status;
                    try {
                        status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                    } catch (IOException e) {
                        status = -1;
                    } catch (InterruptedException e) {
                        return;
                    }
                    statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
                    long now = System.nanoTime();
                    lastOk = status == 200;
                    if (lastOk) {
                        answered.incrementAndGet();
                        longestStallNanos.accumulateAndGet(now - wantedSince, Math::max);
                    }
                    ManagedProcess.sleep(period.toMillis());
                    if (lastOk) wantedSince = System.nanoTime();
                }
            });
        }

        public Duration longestStall() { return Duration.ofNanos(longestStallNanos.get()); }

        public long answered() { return answered.get(); }

        public Map<Integer, Long> statuses() {
            Map<Integer, Long> out = new TreeMap<>();
            statuses.forEach((k, v) -> out.put(k, v.sum()));
            return out;
        }

        /** Stops after the request in flight, so a stall that has not ended yet is measured to its end. */
        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(130_000);
            // a stall still going on when the probe stops counts up to now
            if (!lastOk) longestStallNanos.accumulateAndGet(System.nanoTime() - wantedSince, Math::max);
        }
    }
}
