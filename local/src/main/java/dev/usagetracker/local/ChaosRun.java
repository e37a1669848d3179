package dev.usagetracker.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * scripts/chaos: a soak run with random faults. Clients (half with Idempotency-Key and retries, half
 * without) send {@code --hits} hits, paced to take about {@code --minutes}, through the local runtime while, one at a
 * time, SQS is cut off, DynamoDB is cut off or frozen, both are cut off, or the consumer is killed.
 * At the end everything is restored, the queues drain, the DLQ is redriven, and every client's count
 * is checked against what it was acknowledged. Exit status 0 only if no client's count is off.
 */
public final class ChaosRun {
    private ChaosRun() {}

    enum Fault { SQS_CUT, DYNAMODB_CUT, DYNAMODB_FROZEN, BOTH_CUT, CONSUMER_KILLED }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = options(args);
        long hits = Long.parseLong(a.getOrDefault("hits", "100000"));
        double minutes = Double.parseDouble(a.getOrDefault("minutes", "3"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "6"));
        int clients = Integer.parseInt(a.getOrDefault("clients", "12"));
        int maxBatch = Integer.parseInt(a.getOrDefault("max-batch", "100"));
        long seed = Long.parseLong(a.getOrDefault("seed", Long.toString(System.currentTimeMillis())));
        Path root = Path.of(System.getProperty("project.root", ".")).toAbsolutePath().normalize();
        Random random = new Random(seed);

        System.out.printf("chaos: %d hits over %.1f min, %d threads, %d clients, batches of 1..%d, seed %d%n",
                hits, minutes, threads, clients, maxBatch, seed);
        System.out.println("machine: " + machine());
        Instant started = Instant.now();
        try (ChaosStack stack = ChaosStack.start(root, root.resolve(".local/chaos-logs"), 1, 5)) {
            List<LoadGenerator.Client> all = new ArrayList<>(stack.register("chaos-key", clients / 2, true));
            all.addAll(stack.register("chaos-plain", clients - clients / 2, false));
            // pace the load so that the hits are spread over the whole run
            double requestsPerSecond = hits / (minutes * 60) / ((maxBatch + 1) / 2.0);
            long pauseMs = Math.max(0, (long) (threads * 1000 / requestsPerSecond) - 20);
            LoadGenerator load = new LoadGenerator(stack.baseUrl(), all, new LoadGenerator.Options(threads, maxBatch, hits,
                    Duration.ofMillis(pauseMs), seed)).prime().start();

            Map<Fault, Integer> injected = new LinkedHashMap<>();
            // faults for as long as the load runs: it is paced to last about --minutes
            while (!load.finished()) {
                ManagedProcess.sleep(3_000 + random.nextInt(6_000));
                if (load.finished()) break;
                Fault fault = Fault.values()[random.nextInt(Fault.values().length)];
                long holdMs = 2_000 + random.nextInt(6_000);
                System.out.printf("  %5.0f s  %-16s for %.1f s   (sent %d, acknowledged %d so far)%n",
                        Duration.between(started, Instant.now()).toMillis() / 1000.0, fault, holdMs / 1000.0,
                        load.sent(), load.acknowledged());
                inject(stack, fault);
                injected.merge(fault, 1, Integer::sum);
                ManagedProcess.sleep(holdMs);
                stack.restoreAll();
            }
            System.out.println("load done; waiting for retries, the queue, the DLQ and the counts to settle ...");
            load.stop(Duration.ofSeconds(90));
            stack.restoreAll();
            long redriven = stack.settle(Duration.ofMinutes(10));
            ChaosStack.Verdict verdict = stack.verify(load, redriven);
            long keyedOff = load.tallies().entrySet().stream().filter(e -> e.getKey().startsWith("chaos-key"))
                    .mapToLong(e -> e.getValue().unacknowledged()).sum();

            System.out.println();
            System.out.println(verdict.line("chaos"));
            System.out.println("faults injected: " + injected);
            System.out.println("responses: " + load.statuses() + ", client retries (same Idempotency-Key): " + load.retries());
            System.out.printf("elapsed: %.1f min%n", Duration.between(started, Instant.now()).toMillis() / 60000.0);
            boolean ok = verdict.violations().isEmpty() && keyedOff == 0 && verdict.sent() >= Math.min(hits, 1);
            System.out.println(ok ? "RESULT: every acknowledged hit counted exactly once"
                    : "RESULT: FAILED " + verdict.violations() + (keyedOff > 0 ? ", keyed requests given up: " + keyedOff : ""));
            System.exit(ok ? 0 : 1);
        }
    }

    private static void inject(ChaosStack stack, Fault fault) {
        switch (fault) {
            case SQS_CUT -> stack.cutSqs();
            case DYNAMODB_CUT -> stack.cutDynamo();
            case DYNAMODB_FROZEN -> stack.pauseDynamo();
            case BOTH_CUT -> {
                stack.cutSqs();
                stack.cutDynamo();
            }
            case CONSUMER_KILLED -> stack.killConsumer();
        }
    }

    static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (java.io.IOException ignored) {
            // not Linux
        }
        long memGb = 0;
        try {
            memGb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024 / 1024).orElse(0L);
        } catch (java.io.IOException ignored) {
            // not Linux
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + memGb + " GB RAM, Java "
                + Runtime.version() + ", " + System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: scripts/chaos [--hits N] [--minutes M] [--threads T] [--clients C] [--max-batch B] [--seed S]");
                System.exit(2);
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }
}
