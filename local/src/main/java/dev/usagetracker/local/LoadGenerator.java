package dev.usagetracker.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Clients reporting hits over HTTP from several threads, with random batch sizes, and the books the
 * fault tests and scripts/chaos check against: hits sent, hits acknowledged (202) and, per client,
 * what the service must end up counting. A client with {@code idempotent} behaves as the API asks a
 * careful client to: every request carries an Idempotency-Key and is retried with the same key after
 * a 503 or a lost connection until it is acknowledged, so the service must count it exactly once. A
 * client without a key sends each request once; a 503 is not an acknowledgement, but a write that
 * timed out on its way to a dependency may still land, so for those clients only
 * {@code acknowledged ≤ counted ≤ acknowledged + unacknowledged} can be promised.
 */
public final class LoadGenerator implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public record Client(String clientId, String apiKey, boolean idempotent) {}

    /** One client's books. */
    public static final class Tally {
        final LongAdder sent = new LongAdder();
        final LongAdder acknowledged = new LongAdder();
        final LongAdder unacknowledged = new LongAdder();

        public long sent() { return sent.sum(); }
        public long acknowledged() { return acknowledged.sum(); }
        /** Hits of requests that ended without a 202 (only clients without a key give up). */
        public long unacknowledged() { return unacknowledged.sum(); }
    }

    public record Options(int threads, int maxBatch, long maxHits, Duration pauseBetweenRequests, long seed) {}

    private final String baseUrl;
    private final List<Client> clients;
    private final Options options;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final Map<String, Tally> tallies = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private final AtomicLong hitsIssued = new AtomicLong();
    private final LongAdder retries = new LongAdder();
    private final List<Thread> threads = new ArrayList<>();
    private volatile long retryDeadlineNanos = Long.MAX_VALUE;

    public LoadGenerator(String baseUrl, List<Client> clients, Options options) {
        this.baseUrl = baseUrl;
        this.clients = List.copyOf(clients);
        this.options = options;
        clients.forEach(c -> tallies.put(c.clientId(), new Tally()));
    }

    public LoadGenerator start() {
        for (int i = 0; i < options.threads(); i++) {
            Random random = new Random(options.seed() * 31 + i);
            // Each thread serves its own clients, so a client stuck retrying cannot starve the others.
            List<Client> mine = new ArrayList<>();
            for (int c = i % clients.size(); c < clients.size(); c += options.threads()) mine.add(clients.get(c));
            if (mine.isEmpty()) mine.add(clients.get(i % clients.size()));
            threads.add(Thread.ofPlatform().daemon().name("load-" + i).start(() -> run(random, mine)));
        }
        return this;
    }

    /**
     * Before the load: {@code threads} concurrent single-hit requests per client, on the books like
     * any other, so that every function container has the clients' API keys cached before a fault.
     */
    public LoadGenerator prime() throws InterruptedException {
        List<Thread> primers = new ArrayList<>();
        for (int i = 0; i < Math.max(1, options.threads()); i++) {
            int seed = i;
            primers.add(Thread.ofPlatform().daemon().start(() -> {
                Random random = new Random(seed);
                for (Client c : clients) send(c, body(random, 1), 1);
            }));
        }
        for (Thread t : primers) t.join();
        return this;
    }

    /** Waits for the load to end by itself (maxHits reached). */
    public void join(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    }

    /** Stops issuing new requests; requests being retried go on until acknowledged or {@code retryFor} passes. */
    public void stop(Duration retryFor) throws InterruptedException {
        sending.set(false);
        retryDeadlineNanos = System.nanoTime() + retryFor.toNanos();
        for (Thread t : threads) t.join(retryFor.toMillis() + 35_000);
    }

    public boolean finished() {
        return threads.stream().noneMatch(Thread::isAlive);
    }

    public Map<String, Tally> tallies() { return tallies; }
    public long sent() { return tallies.values().stream().mapToLong(Tally::sent).sum(); }
    public long acknowledged() { return tallies.values().stream().mapToLong(Tally::acknowledged).sum(); }
    public long unacknowledged() { return tallies.values().stream().mapToLong(Tally::unacknowledged).sum(); }
    public long retries() { return retries.sum(); }

    /** Responses by status; -1 counts requests that got no response at all. */
    public Map<Integer, Long> statuses() {
        Map<Integer, Long> out = new java.util.TreeMap<>();
        statuses.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    private void run(Random random, List<Client> mine) {
        while (sending.get()) {
            Client client = mine.get(random.nextInt(mine.size()));
            int n = 1 + random.nextInt(options.maxBatch());
            if (hitsIssued.addAndGet(n) > options.maxHits()) {
                sending.set(false);
                return;
            }
            send(client, body(random, n), n);
            if (!options.pauseBetweenRequests().isZero()) ManagedProcess.sleep(options.pauseBetweenRequests().toMillis());
        }
    }

    private void send(Client client, String body, int n) {
        Tally tally = tallies.get(client.clientId());
        tally.sent.add(n);
        String key = client.idempotent() ? UUID.randomUUID().toString() : null;
        long backoffMs = 100;
        while (true) {
            int status = post(client, body, key, n);
            if (status == 202) {
                tally.acknowledged.add(n);
                return;
            }
            boolean retryable = status == 503 || status == -1;
            if (!client.idempotent() || !retryable || System.nanoTime() > retryDeadlineNanos) {
                tally.unacknowledged.add(n);
                return;
            }
            retries.increment();
            ManagedProcess.sleep(backoffMs); // a test-speed stand-in for Retry-After
            backoffMs = Math.min(1_000, backoffMs * 2);
        }
    }

    private int post(Client client, String body, String key, int n) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + "/api/logs")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("X-API-Key", client.apiKey())
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Idempotency-Key", key);
        int status;
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            status = r.statusCode();
            if (status == 202) {
                JsonNode json = MAPPER.readTree(r.body());
                if (json.path("accepted").asInt() != n) {
                    throw new IllegalStateException("202 for " + n + " hits said " + r.body());
                }
            } else if (status == 503 && r.headers().firstValue("Retry-After").isEmpty()) {
                status = 599; // a 503 without Retry-After breaks the contract: counted as unexpected
            }
        } catch (IOException e) {
            status = -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = -1;
        }
        statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
        return status;
    }

    private static String body(Random random, int n) {
        StringBuilder sb = new StringBuilder(64 * n).append("{\"hits\":[");
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(',');
            sb.append("{\"ip\":\"10.").append(random.nextInt(256)).append('.').append(random.nextInt(256)).append('.')
                    .append(1 + random.nextInt(254)).append("\",\"endpoint\":\"/api/items/").append(random.nextInt(1000))
                    .append("\"}");
        }
        return sb.append("]}").toString();
    }

    @Override
    public void close() {
        sending.set(false);
        retryDeadlineNanos = 0;
        threads.forEach(Thread::interrupt);
    }
}
