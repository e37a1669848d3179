package dev.usagetracker.local;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A webhook receiver for the tests: the JDK's HttpServer on loopback. Each path behaves its own way
 * ({@code /ok} 200, {@code /flaky} 500 three times per webhook-id then 204, {@code /gone} 410, {@code /hang}
 * never answers), and every request is kept, with the status it got, as the delivery log.
 */
final class WebhookReceiver implements AutoCloseable {
    record Delivery(String path, Map<String, List<String>> headers, String body, int status, Instant at) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().getFirst()).findFirst().orElse(null);
        }

        String id() {
            return header("webhook-id");
        }
    }

    private final HttpServer server;
    private final List<Delivery> log = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> flaky = new ConcurrentHashMap<>();

    WebhookReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = exchange.getRequestURI().getPath();
        String id = exchange.getRequestHeaders().getFirst("webhook-id");
        int status = switch (path) {
            case "/flaky" -> flaky.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet() <= 3 ? 500 : 204;
            case "/gone" -> 410;
            case "/hang" -> -1;
            default -> 200;
        };
        Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, List.copyOf(v)));
        log.add(new Delivery(path, headers, body, status, Instant.now()));
        if (status < 0) {
            try {
                Thread.sleep(Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        byte[] answer = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
        if (status == 204) {
            exchange.sendResponseHeaders(204, -1);
        } else {
            exchange.sendResponseHeaders(status, answer.length);
            exchange.getResponseBody().write(answer);
        }
        exchange.close();
    }

    List<Delivery> deliveries(Predicate<Delivery> filter) {
        return new ArrayList<>(log.stream().filter(filter).toList());
    }

    /** Waits until at least {@code n} deliveries match. */
    List<Delivery> await(Predicate<Delivery> filter, int n, Duration within) throws InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            List<Delivery> got = deliveries(filter);
            if (got.size() >= n) return got;
            Thread.sleep(50);
        }
        throw new AssertionError("expected " + n + " deliveries in " + within + ", got " + deliveries(filter).size());
    }

    /** The delivery log: event id, attempt (per id), status. */
    List<String> logLines() {
        Map<String, Integer> attempts = new ConcurrentHashMap<>();
        List<String> lines = new ArrayList<>();
        for (Delivery d : log) {
            int attempt = attempts.merge(d.id(), 1, Integer::sum);
            lines.add(d.at() + " " + d.id() + " attempt=" + attempt + " path=" + d.path() + " status="
                    + (d.status() < 0 ? "no answer (timeout)" : d.status()));
        }
        return lines;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
