package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.Burst;
import dev.usagetracker.local.LocalRuntime;
import dev.usagetracker.store.DynamoUsageStore;
import dev.usagetracker.store.UsageKeys;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * bench/ingest --burst N: issue 30's burst as a new user's load test plays it against the local runtime with
 * the defaults of ./scripts/dev (the functions' own SDK timeouts and rate limits, the template's batching
 * window): one client on a plan with every limit off sends N single-hit requests from --connections
 * concurrent connections, each once, while another client asks POST /api/token every 250 ms. Prints what
 * the burst was answered, the time until every 202 is counted (drain), the consumer's rate, and the longest
 * time POST /api/token went without a 200.
 */
final class BurstPhase {
    record Result(Burst.Result burst, double drainSeconds, long counted, Duration longestAuthStall,
                  Map<Integer, Long> authStatuses) {}

    private BurstPhase() {}

    static Result run(int requests, int connections, Duration drainLimit, PrintStream out) throws Exception {
        Machine.print(out, "bench/ingest --burst");
        out.printf(Locale.ROOT, "burst: %d single-hit requests from %d connections, one client on a plan with every limit off;"
                + " POST /api/token every 250 ms by another client%n", requests, connections);
        try (BenchStack stack = BenchStack.start("burst-")) {
            String adminKey = "ut_burst_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            // No overrides: the SDK timeouts, rate limits and cache lifetimes a user of ./scripts/dev gets.
            Map<String, String> env = new HashMap<>(Map.of("LOG_LEVEL", "WARN"));
            try (LocalRuntime runtime = stack.runtime(env, adminKey, Optional.empty(), true)) {
                Api api = new Api(runtime.baseUrl());
                Map<String, String> admin = Api.bearer(api.token(adminKey));
                Map<String, String> off = Map.of("ingest", "off", "ingest_hits", "off", "read", "off");
                Api.Reply plan = api.put("/api/plans/loadtest", Map.of("limits", off), admin);
                if (plan.status() != 200) throw new IllegalStateException("PUT plan answered " + plan.status() + ": " + plan.body());
                String run = UUID.randomUUID().toString().substring(0, 6);
                JsonNode loader = api.register("Load test", "burst-" + run + "@example.com");
                String clientId = loader.get("client_id").asText();
                Api.Reply assigned = api.patch("/api/clients/" + clientId, Map.of("plan", "loadtest"), admin);
                if (assigned.status() != 200) throw new IllegalStateException("PATCH plan answered " + assigned.status());
                // the probe on the same plan: four tokens a second would exceed the default plan's read limit
                JsonNode prober = api.register("Token probe", "probe-" + run + "@example.com");
                api.patch("/api/clients/" + prober.get("client_id").asText(), Map.of("plan", "loadtest"), admin);
                String probeKey = prober.get("api_key").asText();
                DynamoUsageStore store = new DynamoUsageStore(stack.dynamo(), stack.table("UsageTable"),
                        new UsageKeys(stack.app().config().usageShards()));

                Burst.Result burst;
                long t0 = System.nanoTime();
                long counted;
                double drainSeconds = Double.NaN;
                Burst.AuthProbe probe = new Burst.AuthProbe(runtime.baseUrl(), probeKey, Duration.ofMillis(250));
                try {
                    burst = new Burst(runtime.baseUrl()).send(loader.get("api_key").asText(), requests, connections);
                    out.printf(Locale.ROOT, "sent in %.1f s (%.0f requests/s): %s%n", burst.sendSeconds(),
                            burst.requests() / burst.sendSeconds(), burst.statuses());
                    burst.refusals().forEach((why, n) -> out.printf("  %6d × %s%n", n, why));
                    long deadline = System.nanoTime() + drainLimit.toNanos();
                    while ((counted = IngestBench.storedHits(store, Set.of(clientId))) < burst.acknowledged()
                            && System.nanoTime() < deadline) {
                        Thread.sleep(500);
                    }
                    if (counted >= burst.acknowledged()) drainSeconds = (System.nanoTime() - t0) / 1e9;
                } finally {
                    probe.close();
                }
                Duration stall = probe.longestStall();
                out.printf(Locale.ROOT, "drained (every 202 counted) %s after the burst began; %d of %d acknowledged hits counted%n",
                        Double.isNaN(drainSeconds) ? "NOT within " + drainLimit.toSeconds() + " s" : String.format(Locale.ROOT, "%.1f s", drainSeconds),
                        counted, burst.acknowledged());
                if (!Double.isNaN(drainSeconds)) {
                    out.printf(Locale.ROOT, "consumer: %.0f hits/s from the first request to the last count%n", counted / drainSeconds);
                }
                out.printf(Locale.ROOT, "POST /api/token meanwhile: %s; longest stall %.1f s%n", probe.statuses(), stall.toMillis() / 1000.0);
                return new Result(burst, drainSeconds, counted, stall, probe.statuses());
            }
        }
    }
}
