package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.LocalRuntime;
import dev.usagetracker.local.ResourceBootstrap;
import dev.usagetracker.store.DynamoCapacity;
import dev.usagetracker.store.UsageKeys;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

/**
 * bench/ingest: N concurrent clients post single hits, then batches, through the local runtime (the real
 * function jars, SQS on ElasticMQ, the consumer driven like Lambda's event source mapping, DynamoDB on
 * moto). Per phase: acknowledged hits/s, POST /api/logs latency, lag from 202 to visible in /daily,
 * AWS and Redis requests per 1,000 hits, DynamoDB write capacity per hit from the items actually written
 * — next to the naive design (raw put + daily ADD + hourly ADD per hit), run on a sample in the same run.
 * Checks that every acknowledged hit is counted exactly once.
 */
public final class IngestBench {
    static final double SINGLE_TARGET_WRU = 2.5;
    static final double BATCH_TARGET_WRU = 0.3;

    /**
     * {@code designs}: the HIT_LEDGER settings run one after the other in this run, each on tables of its own
     * (default both: the previous design, transactions only, then the recount path — issue 28).
     */
    record Options(int hits, int clients, int batchSize, double singleShare, int naiveSample, Optional<Duration> window,
                   boolean smoke, List<String> designs, List<String> projections) {
        static Options parse(String[] args) {
            int hits = 100_000;
            int clients = 50;
            int batch = 100;
            // moto_server copies its tables for every transaction, so its consumer side slows as the Hits table
            // grows: the default keeps most hits in batches so 100,000 hits finish in minutes.
            double single = 0.01;
            int naive = 2_000;
            Optional<Duration> window = Optional.empty();
            boolean smoke = false;
            List<String> designs = List.of("transaction", "recount");
            // The Usage table's by_day/by_hour projection (template parameters Usage{Hour,Day}IndexProjection): KEYS_ONLY since
            // issue 28; INCLUDE [count] is what stacks created before it keep. both: INCLUDE first, then KEYS_ONLY.
            List<String> projections = List.of("KEYS_ONLY");
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--hits" -> hits = Integer.parseInt(args[++i]);
                    case "--clients" -> clients = Integer.parseInt(args[++i]);
                    case "--batch-size" -> batch = Integer.parseInt(args[++i]);
                    case "--single-share" -> single = Double.parseDouble(args[++i]);
                    case "--naive-sample" -> naive = Integer.parseInt(args[++i]);
                    case "--window-ms" -> window = Optional.of(Duration.ofMillis(Long.parseLong(args[++i])));
                    case "--ledger" -> {
                        String d = args[++i];
                        designs = d.equals("both") ? List.of("transaction", "recount") : List.of(d);
                        if (!Set.of("transaction", "recount", "both").contains(d)) {
                            throw new IllegalArgumentException("--ledger must be transaction, recount or both");
                        }
                    }
                    case "--usage-index" -> projections = switch (args[++i]) {
                        case "keys" -> List.of("KEYS_ONLY");
                        case "include" -> List.of("INCLUDE");
                        case "both" -> List.of("INCLUDE", "KEYS_ONLY");
                        default -> throw new IllegalArgumentException("--usage-index must be keys, include or both");
                    };
                    case "--smoke" -> {
                        hits = 260;
                        clients = 3;
                        batch = 100;
                        single = 60.0 / 260;
                        naive = 20;
                        window = Optional.of(Duration.ofMillis(300));
                        smoke = true;
                        designs = List.of("recount");
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--hits N, --clients N, --batch-size N, --single-share 0..1, --naive-sample N, --window-ms N,"
                            + " --ledger transaction|recount|both, --usage-index keys|include|both, --smoke)");
                }
            }
            if (batch < 1 || batch > 500) throw new IllegalArgumentException("--batch-size must be 1..500");
            return new Options(hits, clients, batch, single, naive, window, smoke, designs, projections);
        }
    }

    /** A read route while hits arrive: its answers by X-Cache, and the AWS requests its function made per read. */
    record Reads(Map<String, Long> cache, double awsRequestsPerRead) {
        long reads() { return CacheTally.reads(cache); }
        double hitRatio() { return CacheTally.hitRatio(cache); }
    }

    /** What one phase measured. */
    record Phase(String name, int requests, int hits, double sendSeconds, double drainSeconds, Stats latencyMs, Stats lagMs,
                 Map<String, Map<String, Double>> aws, Map<String, Long> redis, double wru, UsageIndexWrites.Figures index,
                 Map<String, Reads> reads) {
        /** Index writes (WRU, ≤ 1 KB each) for the projection the tables have. */
        double gsiWru() { return index.inUse(); }
        double wruPerHit() { return wru / hits; }
        double wruPerRequest() { return wru / requests; }
    }

    record Result(Phase single, Phase batch, double naiveWruPerHit, double naiveGsiWruPerHit, double naiveCallsPerHit,
                  double naiveHitsPerSecond, long counted, long acknowledged) {}

    public static void main(String[] args) throws Exception {
        // --burst N [--connections C] [--drain-limit-s S]: only issue 30's burst phase (BurstPhase)
        int burst = intOption(args, "--burst", 0);
        if (burst > 0) {
            var b = BurstPhase.run(burst, intOption(args, "--connections", 100),
                    java.time.Duration.ofSeconds(intOption(args, "--drain-limit-s", 900)), System.out);
            System.exit(b.counted() == b.burst().acknowledged() ? 0 : 1);
        }
        Result r = run(Options.parse(args), System.out);
        System.exit(r.counted() == r.acknowledged() ? 0 : 1);
    }

    private static int intOption(String[] args, String name, int fallback) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(name)) return Integer.parseInt(args[i + 1]);
        return fallback;
    }

    static Result run(Options options, PrintStream out) throws Exception {
        Counters.enable();
        Machine.print(out, "bench/ingest");
        out.printf(Locale.ROOT, "%d hits from %d concurrent clients: %.0f%% as single-hit requests, the rest in batches of %d%n",
                options.hits(), options.clients(), options.singleShare() * 100, options.batchSize());
        out.println("note: DynamoDB is moto_server (≈450 writes/s; it deep-copies a table for every item of a transaction,"
                + " so the consumer slows as the Hits table grows) and SQS is ElasticMQ: the rates and latencies below are"
                + " the emulators', not AWS's; requests and capacity per hit are not.");
        try (BenchStack stack = BenchStack.start("ingest-")) {
            String adminKey = "ut_ingest_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            out.println("consumer batching window: " + options.window().map(w -> w.toMillis() + " ms (--window-ms)")
                    .orElse("the template's (MaximumBatchingWindowInSeconds)") + "; visibility timeout "
                    + BenchStack.VISIBILITY_TIMEOUT_SECONDS + " s (the template's 180 s would stretch redeliveries after emulator timeouts)");
            // Keys stay cached for the whole run, so the ingest path does not queue behind the consumer's
            // transactions in the single-threaded emulator (on AWS they do not share a server).
            out.println("AUTH_CACHE_SECONDS=600: after the warm-up, ingest authenticates from its cache");
            // The emulator's 60 s SDK call timeout would leave the default 60 s erasure delay too short to bound a
            // transaction's landing, and the ledger would fall back to a ConditionCheck per transaction; production
            // (12 s consumer call timeout, 60 s delay) reads the client rows once per batch instead: price that.
            out.println("ERASURE_DELAY_SECONDS=900: the client guard is the once-per-batch row read, as on AWS with the"
                    + " template's timeouts (DynamoHitLedger.guardWindow; nothing is erased here)");
            out.println("HIT_LEDGER, one after the other, each on tables of its own: " + String.join(", ", options.designs())
                    + "; by_day/by_hour projection (Usage{Hour,Day}IndexProjection): " + String.join(", then ", options.projections()));
            List<DesignRun> runs = new ArrayList<>();
            for (String design : options.designs()) {
                for (String projection : options.projections()) runs.add(runDesign(options, stack, adminKey, design, projection));
            }
            Naive naive = naive(stack, options.naiveSample(), options.clients());
            for (DesignRun d : runs) {
                out.println("\n=== HIT_LEDGER=" + d.design() + (d.design().equals("transaction")
                        ? " (the previous design: every group in TransactWriteItems with ADDs)"
                        : " (light groups: conditional PutItem of the raw items, aggregates recounted; heavy ones as before)")
                        + ", by_day/by_hour " + d.projection());
                print(out, stack, d.table(), List.of(d.single(), d.batch()), naive);
                out.printf(Locale.ROOT, "exactly once: %d hits acknowledged (incl. %d warm-up and %d lag probes), %d counted in /daily → %s%n",
                        d.expected(), d.warmup(), d.probes(), d.counted(), d.counted() == d.expected() ? "OK" : "MISMATCH");
            }
            if (runs.size() > 1) compare(out, runs);
            DesignRun last = runs.getLast();
            long counted = runs.stream().mapToLong(DesignRun::counted).sum();
            long expected = runs.stream().mapToLong(DesignRun::expected).sum();
            return new Result(last.single(), last.batch(), naive.wru / naive.hits, naive.gsiWru / naive.hits,
                    (double) naive.calls / naive.hits, naive.hits / naive.seconds, counted, expected);
        }
    }

    /** One design's phases, on its own tables ({@code table}: logical id → the table's name). */
    record DesignRun(String design, String projection, Phase single, Phase batch, java.util.function.UnaryOperator<String> table,
                     long counted, long expected, long warmup, long probes) {
        double singleWithIndexes() {
            return (single.wru + single.gsiWru()) / Math.max(1, single.requests);
        }
    }

    private static DesignRun runDesign(Options options, BenchStack stack, String adminKey, String design, String projection)
            throws Exception {
        {
            // Tables of its own per design and projection; the runtime creates them with its Usage{Hour,Day}IndexProjection.
            try (LocalRuntime runtime = stack.runtime(BenchStack.emulatorTimeoutsAnd("AUTH_CACHE_SECONDS", "600",
                    "ERASURE_DELAY_SECONDS", "900", "HIT_LEDGER", design, "UsageHourIndexProjection", projection,
                    "UsageDayIndexProjection", projection), adminKey,
                    options.window(), !options.smoke(),
                    stack.prefix + design.charAt(0) + (projection.equals("INCLUDE") ? "i" : "") + "-")) {
                java.util.function.UnaryOperator<String> table = runtime::resource;
                Api api = new Api(runtime.baseUrl());
                String adminToken = api.token(adminKey);
                List<String> keys = new ArrayList<>();
                Set<String> ids = new java.util.HashSet<>();
                String run = UUID.randomUUID().toString().substring(0, 6);
                for (int i = 0; i < options.clients(); i++) {
                    JsonNode c = api.register("Bench client " + i, "bench-" + run + "-" + i + "@example.com");
                    keys.add(c.get("api_key").asText());
                    ids.add(c.get("client_id").asText());
                }
                JsonNode lagClient = api.register("Lag probe", "lag-" + run + "@example.com");
                ids.add(lagClient.get("client_id").asText());
                LagProbe lag = new LagProbe(api, lagClient.get("api_key").asText(), api.token(lagClient.get("api_key").asText()));
                // Dashboards open meanwhile: the admin's ranking and one writing client's week, each read every 500 ms.
                Dashboards dashboards = new Dashboards(api, adminToken, api.token(keys.getFirst()));

                // Warm-up, not measured: every client once, concurrently, so containers start and key caches fill.
                AtomicLong warmup = new AtomicLong();
                List<Thread> warmers = new ArrayList<>();
                for (String key : keys) {
                    warmers.add(Thread.ofPlatform().start(() -> {
                        if (api.post("/api/logs", hit(0), Map.of("X-API-Key", key)).status() == 202) warmup.incrementAndGet();
                    }));
                }
                for (Thread t : warmers) t.join();
                while (countedHits(api, adminToken, ids) < warmup.get()) Thread.sleep(500);

                int singleHits = (int) Math.round(options.hits() * options.singleShare());
                int batchHits = options.hits() - singleHits;
                AtomicLong acknowledged = new AtomicLong();
                Phase single = phase("single hits", stack, table, api, adminToken, ids, keys, singleHits, 1, lag, dashboards, acknowledged);
                Phase batch = phase("batches of " + options.batchSize(), stack, table, api, adminToken, ids, keys, batchHits,
                        options.batchSize(), lag, dashboards, acknowledged);
                long counted;
                while ((counted = countedHits(api, adminToken, ids)) < 0) Thread.sleep(500);
                long expected = acknowledged.get() + lag.acknowledged.get() + warmup.get();
                return new DesignRun(design, projection, single, batch, table, counted, expected, warmup.get(), lag.acknowledged.get());
            }
        }
    }

    /** The designs side by side, from this run (issue 28's before and after). */
    private static void compare(PrintStream out, List<DesignRun> runs) {
        out.println("\nissue 28, the designs side by side (this run; WRU from the items written; index = by_day/by_hour writes for"
                + " the projection the run's tables have, ≤ 1 KB each; the last column prices the same run's writes under the other"
                + " projection):");
        out.printf("  %-24s %16s %10s %16s %18s %6s %12s %14s %14s %22s%n", "HIT_LEDGER, projection", "single WRU/req", "+ index",
                "incl. index", "consumer RRU/req", "k", "batch WRU/hit", "+ index", "exactly once", "other projection");
        for (DesignRun d : runs) {
            double rru = Counters.sum(d.single().aws, ".rru", "HitConsumerFunction") / Math.max(1, d.single().requests);
            int requests = Math.max(1, d.single().requests);
            out.printf(Locale.ROOT, "  %-24s %16.2f %10.2f %16s %18.2f %6.2f %12.3f %14.3f %14s %22s%n",
                    d.design() + ", " + d.projection(), d.single().wruPerRequest(), d.single().gsiWru() / requests,
                    verdict(d.singleWithIndexes() <= SINGLE_TARGET_WRU, String.format(Locale.ROOT, "%.2f", d.singleWithIndexes())),
                    rru, k(d.single(), d.table()), d.batch().wruPerHit(), d.batch().gsiWru() / Math.max(1, d.batch().hits),
                    d.counted() + (d.counted() == d.expected() ? " = " : " ≠ ") + d.expected(),
                    String.format(Locale.ROOT, "%s: %.2f + %.2f", d.single().index().other(), d.single().wruPerRequest(),
                            d.single().index().ofOther() / requests));
        }
        out.println("  before issue 28's first levers (main at 70a080f, the issue's table): single 5.07 + 2.03 GSI = 7.10 WRU/request,"
                + " batches 0.167 + 0.019 WRU/hit; after them (docs/performance.md, 2026-12-06 13:52, INCLUDE [count]): 2.10 + 1.05 = 3.15,"
                + " 0.216 + 0.012");
    }

    /** k: the consumer's messages per client and batch, from the aggregate items written per raw item (2/k). */
    private static double k(Phase p, java.util.function.UnaryOperator<String> table) {
        Map<String, Double> consumer = p.aws.getOrDefault("HitConsumerFunction", Map.of());
        double raw = consumer.getOrDefault("DynamoDb.items_written." + table.apply("HitsTable"), 0.0);
        double aggregates = consumer.getOrDefault("DynamoDb.items_written." + table.apply("UsageTable"), 0.0);
        return aggregates == 0 ? 0 : 2 * raw / aggregates;
    }

    private static Phase phase(String name, BenchStack stack, java.util.function.UnaryOperator<String> table, Api api, String adminToken, Set<String> ids, List<String> keys,
                               int hits, int perRequest, LagProbe lag, Dashboards dashboards, AtomicLong acknowledged)
            throws Exception {
        if (hits <= 0) {
            return new Phase(name, 0, 0, 0, 0, Stats.of(List.of()), Stats.of(List.of()), Map.of(), Map.of(), 0,
                    UsageIndexWrites.Figures.NONE, Map.of());
        }
        var awsBefore = Counters.snapshot();
        var redisBefore = stack.redisCommands();
        // Drain polling reads the aggregates straight from the table (the by_day index), so neither its
        // requests nor its Redis commands land in the phase's counts.
        dev.usagetracker.store.DynamoUsageStore store = new dev.usagetracker.store.DynamoUsageStore(stack.dynamo(),
                table.apply("UsageTable"), new UsageKeys(stack.app().config().usageShards()));
        long countedBefore = storedHits(store, ids);
        long indexedBefore = UsageIndexWrites.indexedItems(stack.dynamo(), table.apply("UsageTable"));
        long probesBefore = lag.acknowledged.get();
        int requests = (hits + perRequest - 1) / perRequest;
        AtomicLong nextRequest = new AtomicLong();
        ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
        AtomicLong failures = new AtomicLong();
        AtomicLong retried = new AtomicLong();
        AtomicLong sentHits = new AtomicLong();
        CountDownLatch done = new CountDownLatch(keys.size());
        lag.drainCache();
        dashboards.start();
        lag.start();
        long t0 = System.nanoTime();
        for (String key : keys) {
            Thread.ofPlatform().name("client").start(() -> {
                try {
                    long r;
                    while ((r = nextRequest.getAndIncrement()) < requests) {
                        int n = (int) Math.min(perRequest, hits - r * perRequest);
                        Object body = perRequest == 1 ? hit(r) : Map.of("hits", hitList(r, n));
                        Api.Reply reply = api.post("/api/logs", body, Map.of("X-API-Key", key));
                        // A 5xx is what a client retries; here only the emulator's timeouts cause them.
                        for (int attempt = 1; reply.status() >= 500 && attempt < 5; attempt++) {
                            retried.incrementAndGet();
                            Thread.sleep(200L * attempt);
                            reply = api.post("/api/logs", body, Map.of("X-API-Key", key));
                        }
                        if (reply.status() == 202) {
                            latencies.add(reply.nanos() / 1e6);
                            sentHits.addAndGet(n);
                        } else {
                            failures.incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        double sendSeconds = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "  %s: %d requests sent in %.0f s (%d retried after a 5xx); waiting for the consumer%n",
                name, requests, sendSeconds, retried.get());
        if (failures.get() > 0) throw new IllegalStateException(name + ": " + failures.get() + " requests were not acknowledged");
        acknowledged.addAndGet(sentHits.get());
        // Drained: every acknowledged hit of this phase (and every lag probe) is visible in /daily.
        lag.stop();
        dashboards.stop();
        long target = countedBefore + sentHits.get() + (lag.acknowledged.get() - probesBefore);
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (storedHits(store, ids) < target) {
            if (System.nanoTime() > deadline) throw new IllegalStateException(name + ": hits never became visible");
            Thread.sleep(1000);
        }
        double drainSeconds = (System.nanoTime() - t0) / 1e9 - sendSeconds;
        var aws = Counters.diff(Counters.snapshot(), awsBefore);
        Map<String, Long> topCache = dashboards.top.drain();
        Map<String, Long> dailyCache = dashboards.daily.drain();
        Map<String, Long> lagCache = lag.drainCache();
        // /daily is read by the dashboard and the lag probe alike: their function's requests are shared by both.
        double dailyRequests = Counters.sum(aws, ".calls", "DailyUsageFunction");
        long dailyReads = CacheTally.reads(dailyCache) + CacheTally.reads(lagCache);
        Map<String, Reads> reads = new java.util.LinkedHashMap<>();
        reads.put("/top (admin, 24 h), every 500 ms", new Reads(topCache,
                Counters.sum(aws, ".calls", "TopUsageFunction") / Math.max(1, CacheTally.reads(topCache))));
        reads.put("/daily (a writing client), every 500 ms", new Reads(dailyCache, dailyRequests / Math.max(1, dailyReads)));
        reads.put("/daily (lag probe, polls until its hit shows)", new Reads(lagCache, dailyRequests / Math.max(1, dailyReads)));
        // Reads made by this benchmark's own polling and dashboards are not part of ingest.
        aws.remove("DailyUsageFunction");
        aws.remove("TopUsageFunction");
        aws.remove("AuthorizerFunction");
        aws.remove("TokenFunction");
        // In "process" only the event source mapping's SQS calls belong to ingest; DynamoDB there is the drain polling.
        if (aws.containsKey("process")) aws.get("process").keySet().removeIf(k -> k.startsWith("DynamoDb."));
        var redis = Counters.diffLongs(stack.redisCommands(), redisBefore);
        double wru = Counters.sum(aws, ".wru", "HitConsumerFunction", "IngestFunction");
        var index = new UsageIndexWrites.Figures(UsageIndexWrites.projection(stack.dynamo(), table.apply("UsageTable")),
                gsiWrites(aws, stack, table), UsageIndexWrites.indexedItems(stack.dynamo(), table.apply("UsageTable")) - indexedBefore);
        return new Phase(name, requests, (int) sentHits.get(), sendSeconds, drainSeconds,
                Stats.of(List.copyOf(latencies)), Stats.of(lag.drainLags()), aws, redis, wru, index, reads);
    }

    /**
     * Index writes under INCLUDE [count]: every item written to a table with GSIs lands in exactly one of them
     * (template.yaml: the Usage table's by_day/by_hour), ≤ 1 KB projected; the Hits table has none since issue 28.
     */
    private static double gsiWrites(Map<String, Map<String, Double>> aws, BenchStack stack, java.util.function.UnaryOperator<String> tables) {
        double n = 0;
        for (String f : List.of("HitConsumerFunction", "IngestFunction")) {
            Map<String, Double> m = aws.getOrDefault(f, Map.of());
            for (String table : List.of("HitsTable", "UsageTable")) {
                if (hasIndexes(stack, table)) n += m.getOrDefault("DynamoDb.items_written." + tables.apply(table), 0.0);
            }
        }
        return n;
    }

    private static boolean hasIndexes(BenchStack stack, String table) {
        Object gsis = stack.template.resources().get(table).properties().get("GlobalSecondaryIndexes");
        return gsis instanceof List<?> list && !list.isEmpty();
    }

    /**
     * A hit as the SDK middlewares send it since DESIGN.md §2b: with method, status and a duration, so the
     * write cost is measured with the fields filled (a hit without them is smaller).
     */
    private static Map<String, Object> hit(long i) {
        return Map.of("ip", "198.51." + (i % 200) + "." + (i % 250 + 1), "endpoint", "/api/items/" + (i % 1000),
                "method", i % 5 == 0 ? "POST" : "GET", "status", i % 20 == 0 ? 503 : i % 7 == 0 ? 404 : 200,
                "duration_ms", 3 + (i * 7919 % 250_000) / 1000.0);
    }

    private static List<Map<String, Object>> hitList(long request, int n) {
        List<Map<String, Object>> hits = new ArrayList<>(n);
        for (int i = 0; i < n; i++) hits.add(hit(request * 1000 + i));
        return hits;
    }

    static long storedHits(dev.usagetracker.store.DynamoUsageStore store, Set<String> ids) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        long total = 0;
        for (var e : store.dailyCountsAllClients(List.of(today.minusDays(1), today)).entrySet()) {
            if (ids.contains(e.getKey())) total += e.getValue().values().stream().mapToLong(Long::longValue).sum();
        }
        return total;
    }

    /** Sum of today's and yesterday's counts of the given clients, as the admin sees them in /daily. */
    static long countedHits(Api api, String adminToken, Set<String> ids) {
        Api.Reply r = api.get("/api/usage/daily?days=2", Api.bearer(adminToken));
        if (r.status() != 200) return -1; // the emulator is overloaded (its timeouts are ours); ask again
        long total = 0;
        for (JsonNode c : r.json().get("clients")) {
            if (ids.contains(c.get("client_id").asText())) total += c.get("total").asLong();
        }
        return total;
    }

    /** Two dashboards polling while hits arrive, as docs/caching.md expects readers to: what does the cache serve them? */
    static final class Dashboards {
        private static final long PERIOD_MS = 500;
        final CacheTally top = new CacheTally();
        final CacheTally daily = new CacheTally();
        private final Api api;
        private final String adminToken;
        private final String clientToken;
        private final AtomicBoolean running = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();

        Dashboards(Api api, String adminToken, String clientToken) {
            this.api = api;
            this.adminToken = adminToken;
            this.clientToken = clientToken;
        }

        void start() {
            running.set(true);
            threads.add(poll("dashboard-top", "/api/usage/top?limit=10", adminToken, top));
            threads.add(poll("dashboard-daily", "/api/usage/daily?days=7", clientToken, daily));
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) t.join();
            threads.clear();
        }

        private Thread poll(String name, String path, String token, CacheTally tally) {
            return Thread.ofPlatform().name(name).start(() -> {
                while (running.get()) {
                    tally.record(api.get(path, Api.bearer(token)));
                    LagProbe.sleep(PERIOD_MS);
                }
            });
        }
    }

    /**
     * One single-hit request at a time from its own client, then /daily polled until the hit shows: the
     * time from the 202 to visible. The consumer's batching window (template: 5 s) dominates it.
     */
    static final class LagProbe {
        private static final Duration UNSEEN_AFTER = Duration.ofSeconds(120);
        private final Api api;
        private final String key;
        private final String token;
        private final AtomicBoolean running = new AtomicBoolean();
        private final AtomicLong acknowledged = new AtomicLong();
        private final List<Double> lags = Collections.synchronizedList(new ArrayList<>());
        private final CacheTally cache = new CacheTally();
        private Thread thread;
        private int drained;

        LagProbe(Api api, String key, String token) {
            this.api = api;
            this.key = key;
            this.token = token;
        }

        void start() {
            running.set(true);
            thread = Thread.ofPlatform().name("lag-probe").start(() -> {
                while (running.get()) {
                    long before = visible();
                    if (before < 0) {
                        sleep(250);
                        continue;
                    }
                    Api.Reply r = api.post("/api/logs", hit(0), Map.of("X-API-Key", key));
                    if (r.status() != 202) continue;
                    acknowledged.incrementAndGet();
                    long acked = System.nanoTime();
                    boolean seen;
                    // Bounded: a cached /daily that a failed version bump left stale (Redis breaker open) would
                    // otherwise keep the phase from ending; the drain counts the hit from DynamoDB anyway.
                    while (!(seen = visible() > before) && System.nanoTime() - acked < UNSEEN_AFTER.toNanos()) sleep(200);
                    if (seen) {
                        lags.add((System.nanoTime() - acked) / 1e6);
                    } else {
                        System.err.printf(Locale.ROOT, "  lag probe: a hit not visible in /daily after %d s (stale cached answer?);"
                                + " left out of the lag figures%n", UNSEEN_AFTER.toSeconds());
                    }
                    sleep(250);
                }
            });
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        /** The lags measured since the previous call. */
        List<Double> drainLags() {
            synchronized (lags) {
                List<Double> mine = List.copyOf(lags.subList(drained, lags.size()));
                drained = lags.size();
                return mine;
            }
        }

        /** How the probe's /daily reads were served since the previous call. */
        Map<String, Long> drainCache() {
            return cache.drain();
        }

        private long visible() {
            Api.Reply r = api.get("/api/usage/daily?days=2", Api.bearer(token));
            cache.record(r);
            return r.status() == 200 ? r.json().get("clients").get(0).get("total").asLong() : -1;
        }

        private static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    record Naive(int hits, long calls, double wru, double gsiWru, double seconds) {}

    /**
     * The naive design on a sample, against its own copy of the tables: per hit, one raw PutItem and two
     * UpdateItem ADDs (daily, hourly), synchronously — not exactly-once, and priced by the same rules.
     */
    private static Naive naive(BenchStack stack, int sample, int concurrency) throws InterruptedException {
        if (sample <= 0) return new Naive(1, 0, Double.NaN, Double.NaN, Double.NaN);
        ResourceBootstrap naive = new ResourceBootstrap(stack.template, "naive-", Map.of("Stage", "naive"));
        DynamoDbClient dynamo = stack.dynamo();
        try (var kms = dev.usagetracker.config.AwsClients.kms(stack.app().config());
             var sqs = dev.usagetracker.config.AwsClients.sqs(stack.app().config())) {
            naive.create(kms, dynamo, sqs, 0);
        }
        String hits = naive.ref("HitsTable");
        String usage = naive.ref("UsageTable");
        UsageKeys keys = new UsageKeys(4);
        DoubleAdder wru = new DoubleAdder();
        AtomicLong calls = new AtomicLong();
        AtomicLong completed = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong next = new AtomicLong();
        CountDownLatch done = new CountDownLatch(concurrency);
        long t0 = System.nanoTime();
        for (int t = 0; t < concurrency; t++) {
            int client = t;
            Thread.ofPlatform().start(() -> {
                try {
                    while (next.getAndIncrement() < sample) {
                      try {
                        Instant now = Instant.now();
                        String clientId = "naive-" + client;
                        String day = UsageKeys.day(now);
                        String hour = UsageKeys.hour(now);
                        Map<String, AttributeValue> raw = new HashMap<>();
                        raw.put("pk", AttributeValue.fromS(clientId + "#" + day));
                        raw.put("sk", AttributeValue.fromS(now + "#" + UUID.randomUUID()));
                        raw.put("client_id", AttributeValue.fromS(clientId));
                        raw.put("ip", AttributeValue.fromS("198.51.100.7"));
                        raw.put("endpoint", AttributeValue.fromS("/api/items/42"));
                        raw.put("time_bucket", AttributeValue.fromS(hour + "#" + (client % 4)));
                        raw.put("expires_at", AttributeValue.fromN(Long.toString(now.getEpochSecond() + 90L * 86400)));
                        PutItemRequest put = PutItemRequest.builder().tableName(hits).item(raw).build();
                        dynamo.putItem(put);
                        wru.add(DynamoCapacity.of(put, null).writeUnits());
                        for (String[] agg : new String[][] {{UsageKeys.dailyPk(clientId, day), "day_bucket", day},
                                {UsageKeys.hourlyPk(clientId, hour), "hour_bucket", hour}}) {
                            UpdateItemRequest add = UpdateItemRequest.builder().tableName(usage)
                                    .key(Map.of("pk", AttributeValue.fromS(agg[0])))
                                    .updateExpression("ADD #count :n SET client_id = :c, #bucket = :b, expires_at = :e")
                                    .expressionAttributeNames(Map.of("#count", "count", "#bucket", agg[1]))
                                    .expressionAttributeValues(Map.of(":n", AttributeValue.fromN("1"),
                                            ":c", AttributeValue.fromS(clientId),
                                            ":b", AttributeValue.fromS(keys.bucket(agg[2], keys.shardOf(clientId))),
                                            ":e", AttributeValue.fromN(Long.toString(now.getEpochSecond() + 90L * 86400))))
                                    .build();
                            dynamo.updateItem(add);
                            wru.add(DynamoCapacity.of(add, null).writeUnits());
                        }
                        calls.addAndGet(3);
                        completed.incrementAndGet();
                      } catch (software.amazon.awssdk.core.exception.SdkException e) {
                          failed.incrementAndGet(); // the emulator's timeout; the hit is left out of the per-hit figures
                      }
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (failed.get() > 0) System.err.println("  naive design: " + failed.get() + " hits hit the emulator's timeouts and are left out");
        int hitsDone = (int) Math.max(1, completed.get());
        // Each of the three items lands in one GSI (by_time, by_day, by_hour): 1 WRU each.
        return new Naive(hitsDone, calls.get(), wru.sum(), 3.0 * hitsDone, seconds);
    }

    private static void print(PrintStream out, BenchStack stack, java.util.function.UnaryOperator<String> table, List<Phase> phases,
                              Naive naive) {
        out.println();
        out.printf("%-18s %9s %9s %11s %24s %24s %9s%n", "phase", "requests", "hits", "acked hits/s",
                "POST /api/logs ms p50/p95/p99", "202→visible ms p50/p95/max", "drain s");
        for (Phase p : phases) {
            out.printf(Locale.ROOT, "%-18s %9d %9d %11.0f %24s %24s %9.1f%n", p.name, p.requests, p.hits, p.hits / p.sendSeconds,
                    String.format(Locale.ROOT, "%.1f / %.1f / %.1f", p.latencyMs.median(), p.latencyMs.p95(), p.latencyMs.p99()),
                    String.format(Locale.ROOT, "%.0f / %.0f / %.0f (n=%d)", p.lagMs.median(), p.lagMs.p95(), p.lagMs.max(), p.lagMs.n()),
                    p.drainSeconds);
        }
        out.println("\nreads while hits arrive (the versioned response cache; a committed batch bumps the versions it changed):");
        out.printf("  %-18s %-48s %7s %26s %10s %14s%n", "phase", "route", "reads", "X-Cache", "hit ratio", "AWS req/read");
        for (Phase p : phases) {
            p.reads.forEach((route, r) -> out.printf(Locale.ROOT, "  %-18s %-48s %7d %26s %9.1f%% %14.2f%n", p.name, route,
                    r.reads(), r.cache(), r.hitRatio() * 100, r.awsRequestsPerRead()));
        }

        out.println("\nrequests per 1,000 hits (IngestFunction, HitConsumerFunction, and the event source mapping's SQS poller = process):");
        // row label → {function, metric}; empty receives get rows of their own: idle pollers, a cost per hour rather
        // than per hit (SdkBench.Costs leaves them out)
        Map<String, String[]> rows = new TreeMap<>();
        for (Phase p : phases) {
            p.aws.forEach((function, metrics) -> metrics.keySet().forEach(k -> {
                if (k.endsWith(".calls")) rows.putIfAbsent(function + " " + k.substring(0, k.length() - 6), new String[] {function, k});
                if (k.endsWith(".empty")) rows.putIfAbsent(function + " " + k.substring(0, k.length() - 6) + " (empty)", new String[] {function, k});
            }));
        }
        out.printf("  %-58s", "");
        phases.forEach(p -> out.printf("%20s", p.name));
        out.println();
        rows.forEach((label, metric) -> {
            out.printf("  %-58s", label);
            for (Phase p : phases) {
                double calls = p.aws.getOrDefault(metric[0], Map.of()).getOrDefault(metric[1], 0.0);
                out.printf(Locale.ROOT, "%20.1f", p.hits == 0 ? 0 : calls * 1000 / p.hits);
            }
            out.println();
        });
        out.printf("  %-58s", "all AWS requests");
        phases.forEach(p -> out.printf(Locale.ROOT, "%20.1f", p.hits == 0 ? 0 : Counters.sum(p.aws, ".calls") * 1000 / p.hits));
        out.println();
        out.printf("  %-58s", "Redis commands (INFO commandstats, incl. the readers')");
        phases.forEach(p -> out.printf(Locale.ROOT, "%20.1f", p.hits == 0 ? 0 : p.redis.values().stream().mapToLong(Long::longValue).sum() * 1000.0 / p.hits));
        out.println();
        java.util.Set<String> commands = new java.util.TreeSet<>();
        phases.forEach(p -> commands.addAll(p.redis.keySet()));
        for (String command : commands) {
            out.printf("  %-58s", "  redis " + command);
            phases.forEach(p -> out.printf(Locale.ROOT, "%20.1f", p.hits == 0 ? 0 : p.redis.getOrDefault(command, 0L) * 1000.0 / p.hits));
            out.println();
        }
        out.printf(Locale.ROOT, "  %-58s%20.1f   (naive design, %d-hit sample)%n", "naive: DynamoDB requests", naive.calls * 1000.0 / naive.hits, naive.hits);

        out.println("\nDynamoDB write capacity, from the items actually written (1 WRU per started KB, ×2 in transactions);"
                + " index writes for by_day/by_hour projected " + phases.get(0).index().projection() + ":");
        out.printf("  %-18s %14s %14s %16s %22s%n", "phase", "WRU/request", "WRU/hit", "+ index WRU/hit", "target (DESIGN.md §3)");
        Phase single = phases.get(0);
        Phase batch = phases.get(1);
        double singleWithIndexes = single.wruPerRequest() + single.gsiWru() / Math.max(1, single.requests);
        out.printf(Locale.ROOT, "  %-18s %14.2f %14.3f %16.3f %22s%n", single.name, single.wruPerRequest(), single.wruPerHit(),
                single.gsiWru() / Math.max(1, single.hits), verdict(singleWithIndexes <= SINGLE_TARGET_WRU,
                        String.format(Locale.ROOT, "≤ 2.5 per request incl. GSI (%.2f)", singleWithIndexes)));
        out.printf(Locale.ROOT, "  %-18s %14.2f %14.3f %16.3f %22s%n", batch.name, batch.wruPerRequest(), batch.wruPerHit(),
                batch.gsiWru() / Math.max(1, batch.hits), verdict(batch.wruPerHit() <= BATCH_TARGET_WRU, "≤ 0.3 per hit"));
        out.printf(Locale.ROOT, "  %-18s %14.2f %14.3f %16.3f %22s   %.0f hits/s on moto, synchronous%n", "naive design", naive.wru / naive.hits,
                naive.wru / naive.hits, naive.gsiWru / naive.hits, "(≥ 3 per hit)", naive.hits / naive.seconds);
        out.println("  before issue 28 (main at 70a080f, same command; the issue's table): single hits 5.07 WRU/request"
                + " + 2.03 GSI, 2.0 messages per transaction; batches of 100 0.167 WRU/hit + 0.019 GSI, 2.2 per transaction");
        for (Phase p : phases) {
            double rru = Counters.sum(p.aws, ".rru", "HitConsumerFunction");
            out.printf(Locale.ROOT, "  %-18s %.2f RRU per request read by the consumer (client rows once per batch, alert policy, month's usage)%n",
                    p.name, p.requests == 0 ? 0 : rru / p.requests);
        }
        for (Phase p : phases) {
            double tx = p.aws.getOrDefault("HitConsumerFunction", Map.of()).getOrDefault("DynamoDb.TransactWriteItems.calls", 0.0);
            Map<String, Double> consumer = p.aws.getOrDefault("HitConsumerFunction", Map.of());
            double raw = consumer.getOrDefault("DynamoDb.items_written." + table.apply("HitsTable"), 0.0);
            double aggregates = consumer.getOrDefault("DynamoDb.items_written." + table.apply("UsageTable"), 0.0);
            double puts = consumer.getOrDefault("DynamoDb.PutItem.calls", 0.0);
            out.printf(Locale.ROOT, "  %-18s %.1f messages per consumer transaction (%.0f transactions); %.0f raw items by PutItem"
                    + " (recount path); %.2f aggregate items written per raw item%n", p.name, tx == 0 ? 0 : (raw - puts) / tx, tx, puts,
                    raw == 0 ? 0 : aggregates / raw);
        }
        for (Phase p : phases) {
            out.printf(Locale.ROOT, "  %-18s index writes per request: %.2f with %s (aggregate items created), %.2f with INCLUDE [count]"
                    + " (aggregate items written)%n", p.name, p.requests == 0 ? 0 : p.index().keysOnly() / p.requests, "KEYS_ONLY",
                    p.requests == 0 ? 0 : p.index().include() / p.requests);
        }
        out.printf(Locale.ROOT, "  ratio naive / ours per hit: single-hit requests ×%.1f, batches ×%.1f (base table)%n",
                (naive.wru / naive.hits) / single.wruPerHit(), (naive.wru / naive.hits) / batch.wruPerHit());
        out.println("  In a transaction (HIT_LEDGER=transaction, and heavy groups) a single-hit request costs 2 WRU (its conditional"
                + " raw item) + its share of the two aggregate updates (2 × 2 WRU per client, hour and consumer batch): 2 + 4/k;"
                + " on the recount path (light groups, HIT_LEDGER=recount) 1 WRU (a plain conditional PutItem) + 2/k (the aggregates"
                + " set to their recounted values). k is how many requests of one client a consumer batch holds; the index column is"
                + " what the by_day/by_hour indexes add: with INCLUDE [count] 1 WRU per aggregate written (2/k on both paths), with"
                + " KEYS_ONLY (the template's default since issue 28) 1 WRU per aggregate created (about 2 per client and hour). The client"
                + " check is a read (RRU above), not a ConditionCheck per transaction, unless ERASURE_DELAY_SECONDS is too short to"
                + " bound it (docs/reliability.md).");
        out.println("  Today's date " + LocalDate.now(ZoneOffset.UTC) + "; capacity rules as published by DynamoDB, applied by"
                + " dev.usagetracker.store.DynamoCapacity to every request the functions sent.");
    }

    private static String verdict(boolean met, String target) {
        return target + (met ? " MET" : " MISSED");
    }
}
