package dev.usagetracker.client;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An in-process HTTP server playing POST /api/logs: answers from a script, 202 when the script is empty. */
final class FakeIngest implements AutoCloseable {
    record Reply(int status, Map<String, String> headers, String body) {
        static Reply of(int status) {
            return new Reply(status, Map.of(), "");
        }
    }

    record Request(String path, String apiKey, String idempotencyKey, String contentType, String body) {
        /** The hits' endpoints, in order. */
        List<String> endpoints() {
            List<String> out = new ArrayList<>();
            Matcher m = Pattern.compile("\"endpoint\":\"([^\"]*)\"").matcher(body);
            while (m.find()) out.add(m.group(1));
            return out;
        }

        int hits() {
            return endpoints().size();
        }
    }

    final HttpServer server;
    final ConcurrentLinkedQueue<Reply> script = new ConcurrentLinkedQueue<>();
    final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    volatile Function<Request, Reply> fallback = r -> accepted(r.hits());

    FakeIngest() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Request req = new Request(ex.getRequestURI().getPath(), ex.getRequestHeaders().getFirst("X-API-Key"),
                    ex.getRequestHeaders().getFirst("Idempotency-Key"), ex.getRequestHeaders().getFirst("Content-Type"), body);
            Reply reply = script.poll();
            try {
                if (reply == null) reply = fallback.apply(req);
            } finally {
                requests.add(req); // after the answer is chosen: a test that saw the request may change the script
            }
            reply.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
            byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
            if (out.length > 0) {
                ex.getResponseHeaders().add("Content-Type", reply.status() < 300 ? "application/json" : "application/problem+json");
            }
            ex.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
    }

    static Reply accepted(int n) {
        return new Reply(202, Map.of(), "{\"accepted\":" + n + "}");
    }

    URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    Request next() throws InterruptedException {
        Request r = requests.poll(10, TimeUnit.SECONDS);
        if (r == null) throw new AssertionError("no request arrived");
        return r;
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
