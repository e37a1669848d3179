package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.usagetracker.client.UsageTracker;
import dev.usagetracker.local.LocalRuntime;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * bench/sdk: what the Java SDK costs its caller and saves its owner, next to posting single hits in the
 * same run. (1) {@code record()} on the caller's thread: median and p99 over ≥ 1,000,000 calls from 8
 * threads, with the sender running against an in-process sink that answers 202 (the timer's own cost
 * measured alongside); (2) the hits/s one tracker sustains against the local runtime (everything
 * buffered, then sent); (3) at a steady load through the local runtime: HTTP requests, SQS requests,
 * DynamoDB WRU and consumer transactions per 1,000 hits through the SDK, through single-hit posting and
 * through hand-made batches of 100, turned into dollars per million hits with docs/performance.md's
 * cost model.
 */
public final class SdkBench {
    /** {@code ledger}: HIT_LEDGER of the runtime (issue 28: {@code recount}, the default, or {@code transaction}). */
    record Options(int recordCalls, int threads, int burstHits, int steadyRate, int steadySeconds, int singleHits, int batchHits,
                   String ledger) {
        static Options parse(String[] args) {
            int recordCalls = 1_000_000, threads = 8, burst = 100_000, rate = 2_000, seconds = 20, single = 2_000, batch = 20_000;
            String ledger = "recount";
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--record-calls" -> recordCalls = Integer.parseInt(args[++i]);
                    case "--threads" -> threads = Integer.parseInt(args[++i]);
                    case "--burst-hits" -> burst = Integer.parseInt(args[++i]);
                    case "--rate" -> rate = Integer.parseInt(args[++i]);
                    case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                    case "--single-hits" -> single = Integer.parseInt(args[++i]);
                    case "--batch-hits" -> batch = Integer.parseInt(args[++i]);
                    case "--ledger" -> {
                        ledger = args[++i];
                        if (!ledger.equals("recount") && !ledger.equals("transaction")) {
                            throw new IllegalArgumentException("--ledger must be recount or transaction");
                        }
                    }
                    case "--smoke" -> {
                        recordCalls = 80_000;
                        burst = 2_000;
                        rate = 500;
                        seconds = 3;
                        single = 100;
                        batch = 500;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--record-calls --threads --burst-hits --rate --seconds --single-hits --batch-hits --ledger --smoke)");
                }
            }
            return new Options(recordCalls, threads, burst, rate, seconds, single, batch, ledger);
        }
    }

    /**
     * Per-hit counts of one way of sending, measured from the functions' AWS calls. {@code gsiWru}: the by_day/by_hour
     * index writes for the projection the tables have ({@code projection}). {@code sqs}: the SQS requests a hit causes
     * (sends, receives that carried messages, deletes); {@code idleReceives}: receives that came back empty, a poller's
     * cost per hour on an idle queue (AWS's event source mapping long-polls 20 s; the local one polls oftener), kept
     * out of the per-hit dollars and printed beside them.
     */
    record Costs(String name, long hits, double requests, double sqs, double idleReceives, double wru, double gsiWru,
                 double transactions, double kms, double rru, String projection) {
        /**
         * The ingest function as docs/performance.md prices it: template.yaml's IngestMemorySize and the AWS duration
         * bench/lambda-memory models at that size (25 ms assumed at 1,536 MB, + 1 ms at 1,024 MB measured).
         */
        static final int INGEST_MEMORY_MB = 1024;
        static final double INGEST_MS = 26;

        double per1000(double v) { return v * 1000 / hits; }
        double perHit(double v) { return v / hits; }

        /** docs/performance.md, "Cost per million hits on AWS": the same prices and assumptions. */
        double[] dollarsPerMillion() {
            double apiGateway = perHit(requests) * 1.00;
            double lambdaIngest = perHit(requests) * MemoryBench.dollarsPerMillion(INGEST_MEMORY_MB, INGEST_MS);
            double sqsCost = perHit(sqs) * 0.40;
            // Reads too since issue 28's recount path reads what it counts ($0.125 per million RRU).
            double dynamo = perHit(wru + gsiWru) * 0.625 + perHit(rru) * 0.125;
            double consumer = perHit(transactions) * 30 / 1000 * MemoryBench.PER_GB_SECOND * 1e6;  // 30 ms at 1 GB, no request fee
            double kmsCost = perHit(kms) * 3.0;
            return new double[] {apiGateway, lambdaIngest, sqsCost, dynamo, consumer, kmsCost,
                    apiGateway + lambdaIngest + sqsCost + dynamo + consumer + kmsCost};
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        boolean ok = run(o, System.out);
        System.exit(ok ? 0 : 1);
    }

    static boolean run(Options o, PrintStream out) throws Exception {
        Counters.enable();
        Machine.print(out, "bench/sdk");
        out.println("note: the local runtime runs on moto_server and ElasticMQ; rates are this machine's and the emulators',"
                + " requests and capacity per hit are what AWS would bill.");
        recordCost(o, out);
        boolean exact;
        try (BenchStack stack = BenchStack.start("sdk-")) {
            String adminKey = "ut_sdk_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            // ERASURE_DELAY_SECONDS=900: the production guard (the row read once per batch) under the emulator's 60 s call
            // timeout, as bench/ingest prices it; the recount path needs it.
            out.println("HIT_LEDGER=" + o.ledger() + ", ERASURE_DELAY_SECONDS=900 (the client guard as on AWS: DynamoHitLedger.guardWindow)");
            try (LocalRuntime runtime = stack.runtime(BenchStack.emulatorTimeoutsAnd("AUTH_CACHE_SECONDS", "600",
                    "ERASURE_DELAY_SECONDS", "900", "HIT_LEDGER", o.ledger()), adminKey,
                    java.util.Optional.empty(), o.burstHits() > 10_000)) {
                Api api = new Api(runtime.baseUrl());
                String adminToken = api.token(adminKey);
                String run = UUID.randomUUID().toString().substring(0, 6);
                Map<String, String> keys = new java.util.LinkedHashMap<>();
                for (String phase : List.of("burst", "steady", "single", "batch")) {
                    JsonNode c = api.register("SDK bench " + phase, "sdk-" + phase + "-" + run + "@example.com");
                    keys.put(phase, c.get("api_key").asText());
                    keys.put(phase + ".id", c.get("client_id").asText());
                }
                // warm-up, not measured: containers start, key caches fill
                for (String phase : List.of("burst", "steady", "single", "batch")) {
                    api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/warm"), Map.of("X-API-Key", keys.get(phase)));
                }
                for (String phase : List.of("burst", "steady", "single", "batch")) await(api, adminToken, keys.get(phase + ".id"), 1);

                exact = burst(o, out, runtime, api, adminToken, keys);
                List<Costs> costs = new ArrayList<>();
                Costs steady = steady(o, out, stack, runtime, api, adminToken, keys);
                exact &= steady != null;
                if (steady != null) costs.add(steady);
                costs.add(posting(o.singleHits(), 1, "single-hit posting", o, stack, runtime, api, adminToken, keys.get("single"),
                        keys.get("single.id"), out));
                costs.add(posting(o.batchHits(), 100, "batches of 100 (by hand)", o, stack, runtime, api, adminToken, keys.get("batch"),
                        keys.get("batch.id"), out));
                printCosts(out, costs);
            }
        }
        return exact;
    }

    // --- (1) record() on the caller's thread ----------------------------------------------------

    static void recordCost(Options o, PrintStream out) throws Exception {
        HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicLong sinkRequests = new AtomicLong();
        sink.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            sinkRequests.incrementAndGet();
            byte[] body = "{\"accepted\":1}".getBytes();
            ex.sendResponseHeaders(202, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        sink.setExecutor(Executors.newFixedThreadPool(2));
        sink.start();
        try (UsageTracker tracker = UsageTracker.builder(URI.create("http://127.0.0.1:" + sink.getAddress().getPort()), "ut_bench_key")
                .maxBufferedHits(2_000_000).build()) { // never full: a drop is a cheaper path than the one measured
            int perThread = o.recordCalls() / o.threads();
            measure(tracker, o.threads(), Math.max(20_000, perThread / 5), 1); // warm-up (JIT)
            measure(tracker, o.threads(), Math.max(20_000, perThread / 5), 2);
            // each measured pass starts with an empty buffer: a full one would time the cheaper dropping path
            tracker.flush().get(60, TimeUnit.SECONDS);
            long[][] timer = measure(tracker, o.threads(), perThread, 0);
            long[][] calls = measure(tracker, o.threads(), perThread, 1);
            tracker.flush().get(60, TimeUnit.SECONDS);
            long[][] withFields = measure(tracker, o.threads(), perThread, 2);
            tracker.flush().get(60, TimeUnit.SECONDS);
            long[] t = flat(timer);
            long[] c = flat(calls);
            long[] f = flat(withFields);
            out.printf(Locale.ROOT, "%n(1) record() on the caller's thread: %,d calls from %d threads, sender running against an in-process 202 sink%n",
                    c.length, o.threads());
            out.printf(Locale.ROOT, "  %-44s %10s %10s %10s%n", "", "median ns", "p99 ns", "p99.9 ns");
            out.printf(Locale.ROOT, "  %-44s %10d %10d %10d%n", "baseline: the timer alone (two nanoTime)", pct(t, 50), pct(t, 99), pct(t, 99.9));
            out.printf(Locale.ROOT, "  %-44s %10d %10d %10d   target p99 < 5,000 ns: %s%n", "record(ip, endpoint)", pct(c, 50), pct(c, 99),
                    pct(c, 99.9), pct(c, 99) < 5_000 ? "met" : "MISSED");
            out.printf(Locale.ROOT, "  %-44s %10d %10d %10d   target p99 < 5,000 ns: %s%n", "record(Hit with method, status, duration)",
                    pct(f, 50), pct(f, 99), pct(f, 99.9), pct(f, 99) < 5_000 ? "met" : "MISSED");
            UsageTracker.Stats s = tracker.stats();
            out.printf(Locale.ROOT, "  tracker: %s; %,d requests to the sink (%.2f per 1,000 hits)%n", s, sinkRequests.get(),
                    sinkRequests.get() * 1000.0 / Math.max(1, s.acknowledged()));
        } finally {
            sink.stop(0);
            ((java.util.concurrent.ExecutorService) sink.getExecutor()).shutdownNow();
        }
    }

    /** {@code mode} 0: the timer alone; 1: record(ip, endpoint); 2: record(Hit) with method, status and duration. */
    static long[][] measure(UsageTracker tracker, int threads, int perThread, int mode) throws InterruptedException {
        String[] methods = {"GET", "POST", "GET", "DELETE"};
        int[] statuses = {200, 201, 404, 500};
        long[][] nanos = new long[threads][perThread];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long[] mine = nanos[t];
            String ip = "198.51.100." + (t + 1);
            String[] endpoints = new String[64];
            for (int i = 0; i < endpoints.length; i++) endpoints[i] = "/api/items/" + i;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    long t0 = System.nanoTime();
                    if (mode == 1) tracker.record(ip, endpoints[i & 63]);
                    else if (mode == 2) tracker.record(new UsageTracker.Hit(ip, endpoints[i & 63], null, methods[i & 3],
                            statuses[i & 3], (i & 1023) * 0.25));
                    mine[i] = System.nanoTime() - t0;
                    // ~10,000 hits/s per thread, 80,000 in all: a busy service, not a tight loop the buffer cannot hold
                    if ((i & 127) == 127) java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
                }
            }));
        }
        start.countDown();
        for (Thread t : ts) t.join();
        return nanos;
    }

    static long[] flat(long[][] a) {
        long[] all = Arrays.stream(a).flatMapToLong(Arrays::stream).toArray();
        Arrays.sort(all);
        return all;
    }

    static long pct(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    // --- (2) hits/s one tracker sustains --------------------------------------------------------

    static boolean burst(Options o, PrintStream out, LocalRuntime runtime, Api api, String adminToken, Map<String, String> keys)
            throws Exception {
        long invocations0 = runtime.pools().get("IngestFunction").invocations();
        try (UsageTracker tracker = UsageTracker.builder(URI.create(runtime.baseUrl()), keys.get("burst"))
                .maxBufferedHits(o.burstHits()).closeTimeout(Duration.ofMinutes(5)).build()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < o.burstHits(); i++) tracker.record("198.51.100." + (i % 200 + 1), "/api/items/" + (i % 1000));
            double recordSeconds = (System.nanoTime() - t0) / 1e9;
            tracker.flush().get(10, TimeUnit.MINUTES);
            double seconds = (System.nanoTime() - t0) / 1e9;
            UsageTracker.Stats s = tracker.stats();
            long requests = runtime.pools().get("IngestFunction").invocations() - invocations0;
            long counted = await(api, adminToken, keys.get("burst.id"), 1 + s.acknowledged()) - 1;
            out.printf(Locale.ROOT, "%n(2) one tracker against the local runtime: %,d hits recorded in %.2f s, all acknowledged after %.1f s"
                            + " → %,.0f hits/s sustained (%,d requests: %.0f hits each; one request in flight at a time)%n",
                    s.recorded(), recordSeconds, seconds, s.acknowledged() / seconds, requests, (double) s.acknowledged() / Math.max(1, requests));
            out.printf(Locale.ROOT, "  %s; counted in /api/usage/daily: %,d → %s%n", s, counted,
                    counted == s.acknowledged() && s.pending() == 0 ? "exact" : "MISMATCH");
            return counted == s.acknowledged();
        }
    }

    // --- (3) what a steady load costs through the SDK and without it ---------------------------

    static Costs steady(Options o, PrintStream out, BenchStack stack, LocalRuntime runtime, Api api, String adminToken,
                        Map<String, String> keys) throws Exception {
        var before = Counters.snapshot();
        long indexedBefore = UsageIndexWrites.indexedItems(stack.dynamo(), stack.table("UsageTable"));
        long invocations0 = runtime.pools().get("IngestFunction").invocations();
        UsageTracker tracker = UsageTracker.builder(URI.create(runtime.baseUrl()), keys.get("steady"))
                .closeTimeout(Duration.ofMinutes(2)).build();
        try {
            double perThread = o.steadyRate() / (double) o.threads() / 100; // hits per thread per 10 ms
            long t0 = System.nanoTime();
            CountDownLatch done = new CountDownLatch(o.threads());
            for (int t = 0; t < o.threads(); t++) {
                int thread = t;
                Thread.ofPlatform().start(() -> {
                    long next = t0;
                    long end = t0 + Duration.ofSeconds(o.steadySeconds()).toNanos();
                    int i = 0;
                    double owed = 0;
                    while (next < end) {
                        owed += perThread;
                        for (; owed >= 1; owed--) tracker.record("198.51.100." + (thread + 1), "/api/items/" + (i++ % 1000));
                        next += 10_000_000;
                        java.util.concurrent.locks.LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
                    }
                    done.countDown();
                });
            }
            done.await();
        } finally {
            tracker.close();
        }
        UsageTracker.Stats s = tracker.stats();
        long counted = await(api, adminToken, keys.get("steady.id"), 1 + s.acknowledged()) - 1;
        long requests = runtime.pools().get("IngestFunction").invocations() - invocations0;
        var aws = ingestOnly(Counters.diff(Counters.snapshot(), before));
        out.printf(Locale.ROOT, "%n(3) steady load through the SDK: %,d hits/s for %d s from %d threads, default settings (flush 1 s, batches ≤ 500)%n",
                o.steadyRate(), o.steadySeconds(), o.threads());
        out.printf(Locale.ROOT, "  %s; %,d requests = %.2f per 1,000 hits (target ≤ 2.1: %s); counted in /api/usage/daily: %,d → %s%n",
                s, requests, requests * 1000.0 / s.acknowledged(), requests * 1000.0 / s.acknowledged() <= 2.1 ? "met" : "MISSED",
                counted, counted == s.acknowledged() && s.pending() == 0 ? "exact" : "MISMATCH");
        if (counted != s.acknowledged()) return null;
        return costs("SDK (steady load)", s.acknowledged(), requests, aws, stack, indexedBefore);
    }

    static Costs posting(int hits, int perRequest, String name, Options o, BenchStack stack, LocalRuntime runtime, Api api,
                         String adminToken, String key, String clientId, PrintStream out) throws Exception {
        var before = Counters.snapshot();
        long indexedBefore = UsageIndexWrites.indexedItems(stack.dynamo(), stack.table("UsageTable"));
        long invocations0 = runtime.pools().get("IngestFunction").invocations();
        int requests = (hits + perRequest - 1) / perRequest;
        AtomicLong next = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        List<Double> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(o.threads());
        for (int t = 0; t < o.threads(); t++) {
            Thread.ofPlatform().start(() -> {
                long r;
                while ((r = next.getAndIncrement()) < requests) {
                    int n = (int) Math.min(perRequest, hits - r * perRequest);
                    List<Map<String, String>> list = new ArrayList<>();
                    for (int i = 0; i < n; i++) list.add(Map.of("ip", "198.51.100." + (i % 200 + 1), "endpoint", "/api/items/" + (i % 1000)));
                    Object body = perRequest == 1 ? list.getFirst() : Map.of("hits", list);
                    String idem = UUID.randomUUID().toString();
                    Api.Reply reply = api.post("/api/logs", body, Map.of("X-API-Key", key, "Idempotency-Key", idem));
                    for (int attempt = 1; reply.status() >= 500 && attempt < 5; attempt++) {
                        reply = api.post("/api/logs", body, Map.of("X-API-Key", key, "Idempotency-Key", idem));
                    }
                    if (reply.status() == 202) {
                        acked.addAndGet(n);
                        latencies.add(reply.nanos() / 1e3);
                    }
                }
                done.countDown();
            });
        }
        done.await();
        long counted = await(api, adminToken, clientId, 1 + acked.get()) - 1;
        long sent = runtime.pools().get("IngestFunction").invocations() - invocations0;
        var aws = ingestOnly(Counters.diff(Counters.snapshot(), before));
        Stats lat = Stats.of(latencies);
        out.printf(Locale.ROOT, "%n%s: %,d hits in %,d requests from %d threads (each with an Idempotency-Key, as the SDK sends);"
                        + " the caller waits %.0f µs median, %.0f µs p99 per request; counted %,d of %,d acknowledged%n",
                name, acked.get(), sent, o.threads(), lat.median(), lat.p99(), counted, acked.get());
        if (perRequest == 1) {
            // One emulated transaction per request makes this phase slow on moto: a fixed sample (--single-hits), scaled.
            out.printf(Locale.ROOT, "  (a fixed sample of %,d single hits, not a timed steady load: its per-1,000-hit figures below are these"
                    + " counts × 1,000 / %,d; HTTP requests are exact, the consumer's packing of messages into transactions depends on how many"
                    + " arrive together)%n", acked.get(), acked.get());
        }
        return costs(name, acked.get(), sent, aws, stack, indexedBefore);
    }

    static Map<String, Map<String, Double>> ingestOnly(Map<String, Map<String, Double>> aws) {
        aws.remove("DailyUsageFunction");
        aws.remove("TopUsageFunction");
        aws.remove("AuthorizerFunction");
        aws.remove("TokenFunction");
        aws.remove("RegisterFunction");
        if (aws.containsKey("process")) aws.get("process").keySet().removeIf(k -> k.startsWith("DynamoDb."));
        return aws;
    }

    /**
     * {@code indexedBefore}: {@link UsageIndexWrites#indexedItems} when the phase began (it has drained now). With
     * KEYS_ONLY indexes only the aggregates created write an index entry; with INCLUDE [count] every aggregate written.
     */
    static Costs costs(String name, long hits, long requests, Map<String, Map<String, Double>> aws, BenchStack stack,
                       long indexedBefore) {
        double sqs = 0, idle = 0, tx = 0, kms = 0;
        for (var f : aws.entrySet()) {
            for (var m : f.getValue().entrySet()) {
                String k = m.getKey().toLowerCase(Locale.ROOT);
                if (k.equals("sqs.receivemessage.empty")) {
                    idle += m.getValue();
                    sqs -= m.getValue();
                }
                if (!k.endsWith(".calls")) continue;
                if (k.startsWith("sqs.")) sqs += m.getValue();
                if (k.startsWith("kms.") && k.contains("generatemac")) kms += m.getValue();
                if (f.getKey().equals("HitConsumerFunction") && k.contains("transactwriteitems")) tx += m.getValue();
            }
        }
        double wru = Counters.sum(aws, ".wru", "HitConsumerFunction", "IngestFunction");
        double written = 0;
        for (String f : List.of("HitConsumerFunction", "IngestFunction")) {
            Map<String, Double> m = aws.getOrDefault(f, Map.of());
            // Only the Usage table has indexes (by_day/by_hour) since issue 28 dropped the raw items' by_time.
            written += m.getOrDefault("DynamoDb.items_written." + stack.table("UsageTable"), 0.0);
        }
        var index = new UsageIndexWrites.Figures(UsageIndexWrites.projection(stack.dynamo(), stack.table("UsageTable")), written,
                UsageIndexWrites.indexedItems(stack.dynamo(), stack.table("UsageTable")) - indexedBefore);
        double rru = Counters.sum(aws, ".rru", "HitConsumerFunction", "IngestFunction");
        int ingestMemory = stack.function("IngestFunction").memoryMb();
        if (ingestMemory != Costs.INGEST_MEMORY_MB) {
            throw new IllegalStateException("template.yaml's IngestFunction has " + ingestMemory + " MB, the cost model "
                    + Costs.INGEST_MEMORY_MB + " MB: measure it with bench/lambda-memory and update SdkBench.Costs and docs/performance.md");
        }
        return new Costs(name, hits, requests, sqs, idle, wru, index.inUse(), tx, kms, rru, index.projection());
    }

    static void printCosts(PrintStream out, List<Costs> costs) {
        out.println("\nper 1,000 hits (measured), and dollars per million hits on AWS (docs/performance.md's prices and assumptions);"
                + " +GSI WRU = by_day/by_hour index writes with the tables' projection, " + costs.getFirst().projection()
                + " (KEYS_ONLY: aggregates created; INCLUDE: aggregates written):");
        out.printf("  %-26s %9s %8s %9s %8s %9s %7s %8s %7s | %7s %7s %7s %7s %7s %7s %8s%n", "", "HTTP req", "SQS req", "idle rcv",
                "WRU", "+GSI WRU", "RRU", "tx", "KMS", "APIGW", "Lambda", "SQS", "DynamoDB", "consum.", "KMS", "total");
        for (Costs c : costs) {
            double[] d = c.dollarsPerMillion();
            out.printf(Locale.ROOT, "  %-26s %9.2f %8.2f %9.2f %8.1f %9.1f %7.1f %8.2f %7.2f | %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f %8.2f%n",
                    c.name(), c.per1000(c.requests()), c.per1000(c.sqs()), c.per1000(c.idleReceives()), c.per1000(c.wru()),
                    c.per1000(c.gsiWru()), c.per1000(c.rru()), c.per1000(c.transactions()),
                    c.per1000(c.kms()), d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
        }
        out.println("  SQS req = sends, receives that carried messages and deletes (per hit); idle rcv = empty receives, a poller's"
                + " cost per hour whatever the traffic (not in the dollars: on AWS ≈ 5 pollers × 3 long polls a minute, $0.26 a month)");
        if (costs.size() < 3) return;  // one path alone (bench/forwarder): nothing to compare it with here
        Costs sdk = costs.getFirst();
        Costs batch = costs.getLast();
        Costs single = costs.get(costs.size() - 2);
        if (sdk.name().startsWith("SDK")) {
            double ratio = sdk.dollarsPerMillion()[6] / batch.dollarsPerMillion()[6];
            out.printf(Locale.ROOT, "  the SDK costs %.1f× batches of 100 (target ≤ 2×: %s) and %.0f× less than single-hit posting%n", ratio,
                    ratio <= 2 ? "met" : "MISSED", single.dollarsPerMillion()[6] / sdk.dollarsPerMillion()[6]);
        }
    }

    /** Polls /api/usage/daily (as the admin) until the client's total reaches {@code atLeast}, then until it holds still. */
    static long await(Api api, String adminToken, String clientId, long atLeast) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            Api.Reply r = api.get("/api/usage/daily?days=2&client_id=" + clientId, Map.of("Authorization", "Bearer " + adminToken));
            long total = r.status() == 200 && r.json().get("clients").size() > 0 ? r.json().get("clients").get(0).get("total").asLong() : -1;
            if (total >= atLeast && total == last) return total;
            last = total;
            Thread.sleep(total >= atLeast ? 2_000 : 500);
        }
        throw new IllegalStateException(clientId + ": its hits never became visible");
    }
}
