package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.LocalRuntime;
import dev.usagetracker.store.UsageKeys;
import java.io.PrintStream;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * bench/reads: fills the Clients, Usage and Hits tables directly (BatchWriteItem) with ≥ 1,000,000 hits'
 * worth of aggregates over ≥ 10,000 clients, growing the Usage table through 1k, 10k and 100k+ items of
 * history while the window the reports read (the last 7 days, the last 24 hours of a fixed set of active
 * clients) stays the same, and measures /daily and /top through the local runtime at each size: latency,
 * and — what does not depend on the emulator — DynamoDB requests, items read and read capacity per request.
 */
public final class ReadsBench {
    record Options(int clients, int active, List<Integer> stages, int rawItems, int repeat, boolean adminDaily, int endpointItems) {
        static Options parse(String[] args) {
            int clients = 10_000;
            int active = 20;
            List<Integer> stages = List.of(1_000, 10_000, 100_000);
            int raw = 10_000;
            int repeat = 3;
            boolean adminDaily = false;
            int endpointItems = 10;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--clients" -> clients = Integer.parseInt(args[++i]);
                    case "--active" -> active = Integer.parseInt(args[++i]);
                    case "--stages" -> stages = java.util.Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
                    case "--raw-items" -> raw = Integer.parseInt(args[++i]);
                    case "--repeat" -> repeat = Integer.parseInt(args[++i]);
                    case "--admin-daily" -> adminDaily = true;
                    case "--endpoint-items" -> endpointItems = Integer.parseInt(args[++i]);
                    case "--smoke" -> {
                        clients = 100;
                        active = 3;
                        stages = List.of(150, 600);
                        raw = 20;
                        repeat = 1;
                        adminDaily = true;
                        endpointItems = 2;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--clients N, --active N, --stages 1000,10000,100000, --raw-items N, --repeat N, --admin-daily,"
                            + " --endpoint-items N, --smoke)");
                }
            }
            return new Options(clients, active, stages, raw, repeat, adminDaily, endpointItems);
        }
    }

    /** One API request's cost, from the function's own counters. */
    record Cost(double ms, double requests, double itemsRead, double rru, String cache) {}

    record Stage(long usageItems, long hitsWorth, Map<String, List<Cost>> costs) {}

    public static void main(String[] args) throws Exception {
        List<Stage> stages = run(Options.parse(args), System.out);
        System.exit(stages.isEmpty() ? 1 : 0);
    }

    static List<Stage> run(Options options, PrintStream out) throws Exception {
        Counters.enable();
        Machine.print(out, "bench/reads");
        out.println("note: moto_server's Query is O(table size) (≈100 ms at 10k items, ≈2 s at 100k, for every query; /top"
                + " makes 96 of them),"
                + " so its latency grows with the table even when the request reads the same items: judge flatness by the"
                + " DynamoDB requests, items read and read capacity columns, which are what AWS charges and what bounds"
                + " latency there.");
        List<Stage> stages = new ArrayList<>();
        try (BenchStack stack = BenchStack.start("reads-")) {
            String adminKey = "ut_reads_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            // The prefetch runs once at start only: on its schedule it would refill the counters and the /top
            // entry that the database path flushes, racing the request it measures.
            try (LocalRuntime runtime = stack.runtime(BenchStack.emulatorTimeoutsAnd("LOCAL_SCHEDULE_SECONDS", "86400"), adminKey,
                    Optional.empty(), false)) {
                Api api = new Api(runtime.baseUrl());
                String adminToken = api.token(adminKey);
                JsonNode reader = api.register("Reader", "reader-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com");
                String readerId = reader.get("client_id").asText();
                String readerToken = api.token(reader.get("api_key").asText());

                Filler filler = new Filler(stack.dynamo(), stack.table("ClientsTable"), stack.table("UsageTable"),
                        stack.table("HitsTable"), new UsageKeys(4));
                long t0 = System.nanoTime();
                filler.clients(options.clients());
                List<String> active = new ArrayList<>();
                active.add(readerId);
                for (int i = 1; i < options.active(); i++) active.add(Filler.clientId(i));
                filler.window(active);
                filler.rawHits(readerId, options.rawItems(), 100);
                // /endpoints and /export: a client whose raw hits match its daily aggregates, inside the 7-day window
                // and (as much again, twice) outside it: what is outside must never be read.
                JsonNode analyst = api.register("Analyst", "analyst-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com");
                String analystId = analyst.get("client_id").asText();
                String analystToken = api.token(analyst.get("api_key").asText());
                filler.endpointDays(analystId, options.endpointItems(), 100);
                out.printf(Locale.ROOT, "filled %d clients, the read window of %d active clients (%d items) and %d raw-hit items"
                                + " (%d hits packed 100 per item) in %.0f s%n", options.clients(), active.size(), filler.usageItems,
                        options.rawItems(), options.rawItems() * 100L, (System.nanoTime() - t0) / 1e9);

                for (int target : options.stages()) {
                    long t1 = System.nanoTime();
                    filler.history(options.clients(), target);
                    out.printf(Locale.ROOT, "%nstage: Usage table %,d items (%,d hits' worth in aggregates), filled in %.0f s%n",
                            filler.usageItems, filler.hitsWorth, (System.nanoTime() - t1) / 1e9);
                    Map<String, List<Cost>> costs = new LinkedHashMap<>();
                    for (ReadPath via : ReadPath.values()) {
                        costs.put("/daily (client, 7 d) " + via.label, measure(stack, api, "/api/usage/daily?days=7", readerToken,
                                "DailyUsageFunction", options.repeat(), via));
                        costs.put("/top (admin, 24 h) " + via.label, measure(stack, api, "/api/usage/top?limit=3&hours=24", adminToken,
                                "TopUsageFunction", options.repeat(), via));
                    }
                    // analytics: the raw-hit rebuild (Redis flushed), the Redis mirror (a new cache key), the cached answer
                    costs.put("/endpoints (client, 7 d) raw hits", measure(stack, api, "/api/usage/endpoints?days=7", analystToken,
                            "EndpointUsageFunction", options.repeat(), ReadPath.DATABASE));
                    costs.put("/endpoints (client, 7 d) mirror", measureFresh(api, "/api/usage/endpoints?days=7&limit=", analystToken,
                            "EndpointUsageFunction", options.repeat()));
                    costs.put("/endpoints (client, 7 d) cached", measure(stack, api, "/api/usage/endpoints?days=7", analystToken,
                            "EndpointUsageFunction", options.repeat(), ReadPath.CACHED));
                    String last30 = "from=" + LocalDate.now(ZoneOffset.UTC).minusDays(29) + "&to=" + LocalDate.now(ZoneOffset.UTC);
                    costs.put("/export (client, 30 d) database", measure(stack, api, "/api/usage/export?" + last30, analystToken,
                            "UsageExportFunction", options.repeat(), ReadPath.DATABASE));
                    costs.put("/export (admin, all, 7 d) database", measure(stack, api, "/api/usage/export", adminToken,
                            "UsageExportFunction", options.repeat(), ReadPath.DATABASE));
                    costs.put("/export (client, 30 d) cached", measure(stack, api, "/api/usage/export?" + last30, analystToken,
                            "UsageExportFunction", options.repeat(), ReadPath.CACHED));
                    if (options.adminDaily()) {
                        costs.put("/daily (admin, all) " + ReadPath.DATABASE.label, measure(stack, api, "/api/usage/daily?days=7",
                                adminToken, "DailyUsageFunction", 1, ReadPath.DATABASE));
                    }
                    Stage stage = new Stage(filler.usageItems, filler.hitsWorth, costs);
                    stages.add(stage);
                    printStage(out, stage);
                }
            }
        }
        summary(out, stages, options);
        return stages;
    }

    /**
     * The two ways a read is answered. The tables are filled behind the consumer's back, so no version is
     * bumped between stages: without a flush every read after the first would be a cache hit.
     */
    enum ReadPath {
        /** Redis flushed before each request (no cached answer, no counters): the database path, X-Cache MISS. */
        DATABASE("database", "MISS"),
        /** The same request again: the versioned response cache, X-Cache HIT. */
        CACHED("cached", "HIT");

        final String label;
        final String expectedCache;

        ReadPath(String label, String expectedCache) {
            this.label = label;
            this.expectedCache = expectedCache;
        }
    }

    private static List<Cost> measure(BenchStack stack, Api api, String path, String token, String function, int repeat,
                                      ReadPath via) {
        List<Cost> costs = new ArrayList<>();
        api.get(path, Api.bearer(token)); // the first call of a container loads classes and caches the signing key
        for (int i = 0; i < repeat; i++) {
            if (via == ReadPath.DATABASE) stack.flushRedis();
            var before = Counters.snapshot();
            Api.Reply r = api.get(path, Api.bearer(token));
            // A 5xx here is the emulator outlasting the functions' SDK timeouts under load: measure again.
            for (int attempt = 1; r.status() >= 500 && attempt < 3; attempt++) {
                System.err.println("  " + path + " answered " + r.status() + " (emulator timeout); measuring again");
                if (via == ReadPath.DATABASE) stack.flushRedis();
                before = Counters.snapshot();
                r = api.get(path, Api.bearer(token));
            }
            if (r.status() != 200) throw new IllegalStateException(path + " answered " + r.status() + ": " + r.body());
            var d = Counters.diff(Counters.snapshot(), before);
            // The route's own reads; the authorizer adds at most one GetItem when its verdict cache (60 s) is cold.
            costs.add(new Cost(r.nanos() / 1e6, Counters.sum(d, ".calls", function),
                    Counters.sum(d, ".items_read", function), Counters.sum(d, ".rru", function), r.cache()));
        }
        return costs;
    }

    /** Requests that miss the response cache (another {@code limit} each time) but find the Redis mirror. */
    private static List<Cost> measureFresh(Api api, String pathWithoutLimit, String token, String function, int repeat) {
        List<Cost> costs = new ArrayList<>();
        api.get(pathWithoutLimit + "100", Api.bearer(token)); // rebuilds the mirror if Redis was flushed
        for (int i = 0; i < repeat; i++) {
            int limit = 10 + (int) (System.nanoTime() % 80);
            var before = Counters.snapshot();
            Api.Reply r = api.get(pathWithoutLimit + limit, Api.bearer(token));
            if (r.status() != 200) throw new IllegalStateException(pathWithoutLimit + " answered " + r.status() + ": " + r.body());
            var d = Counters.diff(Counters.snapshot(), before);
            costs.add(new Cost(r.nanos() / 1e6, Counters.sum(d, ".calls", function),
                    Counters.sum(d, ".items_read", function), Counters.sum(d, ".rru", function), r.cache()));
        }
        return costs;
    }

    private static void printStage(PrintStream out, Stage s) {
        out.printf("  %-36s %20s %14s %12s %10s  %s%n", "request", "ms min/med/max", "DDB requests", "items read", "RRU", "X-Cache");
        s.costs.forEach((name, costs) -> out.printf(Locale.ROOT, "  %-36s %20s %14.0f %12.0f %10.1f  %s%n", name,
                Stats.of(costs.stream().map(Cost::ms).toList()).minMedMax(),
                median(costs, Cost::requests), median(costs, Cost::itemsRead), median(costs, Cost::rru),
                costs.stream().map(Cost::cache).collect(java.util.stream.Collectors.groupingBy(c -> c.isEmpty() ? "-" : c,
                        java.util.TreeMap::new, java.util.stream.Collectors.counting()))));
    }

    private static double median(List<Cost> costs, java.util.function.ToDoubleFunction<Cost> f) {
        return Stats.of(costs.stream().map(c -> f.applyAsDouble(c)).toList()).median();
    }

    private static void summary(PrintStream out, List<Stage> stages, Options options) {
        out.println("\nsummary: per request, as the Usage table grows (DynamoDB requests / items read / RRU; median ms on moto)");
        out.printf("  %-36s", "request");
        stages.forEach(s -> out.printf("%30s", String.format(Locale.ROOT, "%,d items", s.usageItems)));
        out.println("   flat?");
        for (String name : stages.getFirst().costs.keySet()) {
            out.printf("  %-36s", name);
            boolean flat = true;
            Cost first = null;
            for (Stage s : stages) {
                List<Cost> c = s.costs.get(name);
                Cost m = new Cost(median(c, Cost::ms), median(c, Cost::requests), median(c, Cost::itemsRead), median(c, Cost::rru),
                        c.getFirst().cache());
                if (first == null) first = m;
                flat &= m.requests == first.requests && m.itemsRead == first.itemsRead && m.rru == first.rru;
                out.printf(Locale.ROOT, "%30s", String.format(Locale.ROOT, "%.0f / %.0f / %.1f; %.0f ms", m.requests, m.itemsRead, m.rru, m.ms));
            }
            out.println(flat ? "   FLAT" : "   grows");
        }
        out.printf(Locale.ROOT, "%,d registered clients. The admin's all-clients /daily lists every one of them (a Scan of the"
                + " Clients table, by contract), so its cost follows the number of clients, never the number of hits;%s%n",
                options.clients(), options.adminDaily() ? " measured above." : " not measured here (--admin-daily): with"
                        + " 10,000 clients moto's Scan outlasts the functions' 12 s SDK call timeout.");
    }

    /** Writes aggregates, clients and packed raw hits straight into the tables, 25 items per BatchWriteItem. */
    static final class Filler {
        private final DynamoDbClient dynamo;
        private final String clientsTable;
        private final String usageTable;
        private final String hitsTable;
        private final UsageKeys keys;
        private final LocalDate today = LocalDate.now(ZoneOffset.UTC);
        private final Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        private final List<Map<String, AttributeValue>> pending = new ArrayList<>();
        private String pendingTable;
        long usageItems;
        long hitsWorth;
        private int historyClient;
        private int historyDay = 8; // older than any /daily window (≤ 31 days is allowed: the bench asks for 7)

        Filler(DynamoDbClient dynamo, String clientsTable, String usageTable, String hitsTable, UsageKeys keys) {
            this.dynamo = dynamo;
            this.clientsTable = clientsTable;
            this.usageTable = usageTable;
            this.hitsTable = hitsTable;
            this.keys = keys;
        }

        static String clientId(int i) {
            return String.format(Locale.ROOT, "bench-client-%05d", i);
        }

        void clients(int n) {
            String created = Instant.now().toString();
            for (int i = 0; i < n; i++) {
                Map<String, AttributeValue> item = new HashMap<>();
                item.put("client_id", s(clientId(i)));
                item.put("kind", s("client"));
                item.put("name", s("Bench client " + i));
                item.put("role", s("client"));
                item.put("created_at", s(created));
                put(clientsTable, item);
            }
            flush();
        }

        /** What the reports read: 7 daily and 24 hourly aggregates per active client. */
        void window(List<String> active) {
            for (String c : active) {
                for (int d = 0; d < 7; d++) daily(c, today.minusDays(d), 100 + d);
                for (int h = 0; h < 24; h++) hourly(c, hour.minus(h, ChronoUnit.HOURS), 10 + h);
            }
            flush();
        }

        /** Older daily aggregates, round robin over every client, until the Usage table holds {@code target} items. */
        void history(int clients, long target) {
            while (usageItems < target) {
                daily(clientId(historyClient), today.minusDays(historyDay), 5 + (historyClient + historyDay) % 16);
                if (++historyClient == clients) {
                    historyClient = 0;
                    historyDay++;
                }
            }
            flush();
        }

        void rawHits(String clientId, int items, int perItem) {
            long t = System.currentTimeMillis() - 86_400_000L;
            StringBuilder packed = new StringBuilder("[");
            for (int i = 0; i < perItem; i++) {
                if (i > 0) packed.append(',');
                packed.append("{\"t\":").append(t + i).append(",\"ip\":\"198.51.100.").append(i % 250).append("\",\"ep\":\"/i/").append(i).append("\"}");
            }
            String hits = packed.append(']').toString();
            for (int i = 0; i < items; i++) {
                Instant at = Instant.ofEpochMilli(t + i);
                Map<String, AttributeValue> item = new HashMap<>();
                item.put("pk", s(clientId + "#" + UsageKeys.day(at)));
                item.put("sk", s(at + "#fill" + i + "#0"));
                item.put("client_id", s(clientId));
                item.put("batch_id", s("fill" + i));
                item.put("part", AttributeValue.fromN("0"));
                item.put("first_event", AttributeValue.fromN("0"));
                item.put("n", AttributeValue.fromN(Integer.toString(perItem)));
                item.put("hits", s(hits));
                put(hitsTable, item);
            }
            flush();
        }

        /**
         * Raw-hit items ({@code perItem} hits each, 10 templates) of the last 7 days and of days 8..21 before,
         * with daily aggregates that match them, as the consumer would have left them.
         */
        void endpointDays(String clientId, int itemsPerDay, int perItem) {
            List<Integer> ages = new ArrayList<>();
            for (int d = 0; d < 7; d++) ages.add(d);
            for (int d = 8; d < 22; d++) ages.add(d);
            for (int age : ages) {
                LocalDate day = today.minusDays(age);
                long start = age == 0 ? day.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli()
                        : day.atTime(12, 0).toInstant(ZoneOffset.UTC).toEpochMilli();
                for (int i = 0; i < itemsPerDay; i++) {
                    long t = start + i * 1_000L;
                    StringBuilder packed = new StringBuilder("[");
                    for (int k = 0; k < perItem; k++) {
                        if (k > 0) packed.append(',');
                        packed.append("{\"t\":").append(t).append(",\"ip\":\"198.51.100.7\",\"ep\":\"/api/r").append(k % 10)
                                .append("/").append(k).append("?q=").append(i).append("\"}");
                    }
                    Instant at = Instant.ofEpochMilli(t);
                    Map<String, AttributeValue> item = new HashMap<>();
                    item.put("pk", s(clientId + "#" + day));
                    item.put("sk", s(at + "#endpoints" + age + "-" + i + "#0"));
                    item.put("client_id", s(clientId));
                    item.put("batch_id", s("endpoints" + age + "-" + i));
                    item.put("part", AttributeValue.fromN("0"));
                    item.put("first_event", AttributeValue.fromN("0"));
                    item.put("n", AttributeValue.fromN(Integer.toString(perItem)));
                    item.put("hits", s(packed.append(']').toString()));
                    put(hitsTable, item);
                }
                flush();
                daily(clientId, day, (long) itemsPerDay * perItem);
                flush();
            }
        }

        private void daily(String clientId, LocalDate day, long count) {
            Map<String, AttributeValue> item = new HashMap<>();
            item.put("pk", s(UsageKeys.dailyPk(clientId, day.toString())));
            item.put("client_id", s(clientId));
            item.put("day_bucket", s(keys.bucket(day.toString(), keys.shardOf(clientId))));
            item.put("count", AttributeValue.fromN(Long.toString(count)));
            put(usageTable, item);
            usageItems++;
            hitsWorth += count;
        }

        private void hourly(String clientId, Instant at, long count) {
            String h = UsageKeys.hour(at);
            Map<String, AttributeValue> item = new HashMap<>();
            item.put("pk", s(UsageKeys.hourlyPk(clientId, h)));
            item.put("client_id", s(clientId));
            item.put("hour_bucket", s(keys.bucket(h, keys.shardOf(clientId))));
            item.put("count", AttributeValue.fromN(Long.toString(count)));
            put(usageTable, item);
            usageItems++;
        }

        private void put(String table, Map<String, AttributeValue> item) {
            if (pendingTable != null && !pendingTable.equals(table)) flush();
            pendingTable = table;
            pending.add(item);
            if (pending.size() == 25) flush();
        }

        private void flush() {
            if (pending.isEmpty()) return;
            List<WriteRequest> writes = pending.stream()
                    .map(i -> WriteRequest.builder().putRequest(PutRequest.builder().item(i).build()).build()).toList();
            Map<String, List<WriteRequest>> request = Map.of(pendingTable, writes);
            while (!request.isEmpty()) {
                Map<String, List<WriteRequest>> current = request;
                BatchWriteItemResponse r = dynamo.batchWriteItem(b -> b.requestItems(current));
                request = r.hasUnprocessedItems() ? r.unprocessedItems() : Map.of();
            }
            pending.clear();
        }

        private static AttributeValue s(String v) {
            return AttributeValue.fromS(v);
        }
    }
}
