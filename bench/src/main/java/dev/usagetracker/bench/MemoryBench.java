package dev.usagetracker.bench;

import dev.usagetracker.local.SamTemplate;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * bench/lambda-memory: what a function's memory size does to its warm invocations and its bill. Lambda gives
 * a function CPU in proportion to its memory (1,769 MB = one vCPU); this runs the function's jar in a fresh
 * JVM per run ({@link ColdStartProbe}, the deployed JVM flags, a heap of 85 % of the memory as the Lambda
 * Java runtime sizes it) inside a cgroup whose CPU quota is that share, against the local stack, and times
 * a long run of warm invocations of the function's fixture event. Sizes are interleaved run by run so the
 * machine's noise lands on each alike.
 *
 * <p>The dollars: Lambda bills 1 ms steps of memory × duration. An invocation here talks to loopback
 * emulators, so its duration is not AWS's; the model keeps docs/performance.md's assumed AWS duration at the
 * memory it was assumed for ({@code --aws-ms 25 --aws-ms-at 1536}: the ingest function's one SendMessage)
 * and adds what another CPU share costs here, {@code warm mean(M) − warm mean(1536 MB)}: the CPU-bound part scales with the share,
 * the network waits do not. The warm invocations run back to back, a container that is never idle: its CPU
 * quota is spent as fast as it refills, the worst case for a small share (gaps between requests refill it).
 */
public final class MemoryBench {
    /** Lambda: one full vCPU at 1,769 MB, a proportional share below. */
    static final double MB_PER_VCPU = 1769;
    static final double PER_GB_SECOND = 0.0000133334;   // arm64, as docs/performance.md's cost table
    static final double PER_MILLION_INVOCATIONS = 0.20;

    /** Dollars per million invocations of {@code memoryMb} lasting {@code ms} (billed in 1 ms steps), arm64. */
    static double dollarsPerMillion(int memoryMb, double ms) {
        return PER_MILLION_INVOCATIONS + memoryMb / 1024.0 * Math.ceil(ms) / 1000 * PER_GB_SECOND * 1e6;
    }

    record Options(List<Integer> memories, List<String> functions, int runs, int warm, int skip, double awsMs, int awsAtMb,
                   List<String> jvmFlags) {
        static Options parse(String[] args) {
            List<Integer> memories = List.of(512, 768, 1024, 1536);
            List<String> functions = List.of("IngestFunction");
            int runs = 3;
            int warm = 3000;
            int skip = 1000;
            double awsMs = 25;
            int awsAtMb = 1536;
            List<String> jvmFlags = List.of();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--memory" -> memories = java.util.Arrays.stream(args[++i].split(",")).map(String::trim).map(Integer::parseInt).toList();
                    case "--functions" -> functions = List.of(args[++i].split(","));
                    case "--runs" -> runs = Integer.parseInt(args[++i]);
                    case "--warm" -> warm = Integer.parseInt(args[++i]);
                    case "--skip" -> skip = Integer.parseInt(args[++i]);
                    case "--aws-ms" -> awsMs = Double.parseDouble(args[++i]);
                    case "--aws-ms-at" -> awsAtMb = Integer.parseInt(args[++i]);
                    case "--jvm-flags" -> jvmFlags = List.of(args[++i].trim().split("\\s+"));
                    case "--smoke" -> {
                        memories = List.of(512, 1536);
                        runs = 1;
                        warm = 60;
                        skip = 20;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + " (--memory 512,1024,1536, --functions A,B, --runs N, --warm N, --skip N, --aws-ms MS, --aws-ms-at MB, --jvm-flags '...', --smoke)");
                }
            }
            if (skip >= warm) throw new IllegalArgumentException("--skip must be less than --warm");
            return new Options(memories, functions, runs, warm, skip, awsMs, awsAtMb, jvmFlags);
        }
    }

    record Run(double initMs, double firstMs, double warmMedianMs, double warmMeanMs, double warmP90Ms, double warmP99Ms, double cpuMs, long otherStatus) {}

    record Row(int memoryMb, List<Run> runs) {
        double median(java.util.function.ToDoubleFunction<Run> f) {
            return Stats.of(runs.stream().map(r -> f.applyAsDouble(r)).toList()).median();
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        run(options, System.out);
        System.exit(0);
    }

    static Map<String, List<Row>> run(Options options, PrintStream out) throws Exception {
        Machine.print(out, "bench/lambda-memory");
        CpuCgroup cgroups = CpuCgroup.find();
        Path root = BenchStack.projectRoot();
        Path work = root.resolve("bench/target/lambda-memory");
        Files.createDirectories(work);
        Path probeJar = ColdStartBench.probeJar(work);
        Path serialization = Files.list(root.resolve("bench/target/probe-lib")).filter(p -> p.toString().endsWith(".jar"))
                .findFirst().orElseThrow(() -> new IllegalStateException("bench/target/probe-lib is empty; build with ./mvnw package"));
        Map<String, List<Row>> results = new LinkedHashMap<>();
        try (BenchStack stack = BenchStack.start("memory-")) {
            out.printf(Locale.ROOT, "CPU share per memory size: a %s cgroup, quota = memory / %.0f MB of one CPU per %d µs period;"
                    + " heap -Xmx = 85 %% of the memory; JVM flags as deployed (template.yaml's JAVA_TOOL_OPTIONS)%n",
                    cgroups.describe(), MB_PER_VCPU, CpuCgroup.PERIOD_US);
            out.printf(Locale.ROOT, "%d run(s) per size, a fresh JVM each; %d warm invocations per run, the first %d left out as warm-up%n",
                    options.runs(), options.warm(), options.skip());
            for (String name : options.functions()) {
                SamTemplate.Function f = stack.function(name);
                List<Integer> memories = new ArrayList<>(options.memories());
                if (!memories.contains(f.memoryMb())) memories.add(f.memoryMb());
                if (!memories.contains(options.awsAtMb())) memories.add(options.awsAtMb());
                memories.sort(Integer::compare);
                Map<String, String> env = new TreeMap<>(stack.functionEnvironment(f));
                List<String> flags = new ArrayList<>(List.of(env.getOrDefault("JAVA_TOOL_OPTIONS", "").trim().split("\\s+")));
                flags.removeIf(String::isBlank);
                env.remove("JAVA_TOOL_OPTIONS");
                // Warm invocations repeat one client's request thousands of times: its rate limit must not answer them.
                env.put("RATE_LIMIT_INGEST", "10000000/1m");
                env.put("RATE_LIMIT_INGEST_HITS", "10000000/1m");
                Map<String, String> placeholders = ColdStartBench.setUp(stack, "http://127.0.0.1:9/unused");
                var events = ColdStartBench.events(stack, work, f, placeholders);
                String classpath = ColdStartBench.classpath(root.resolve(f.codeUri()), probeJar, serialization);
                Map<Integer, List<Run>> runs = new TreeMap<>();
                for (int i = 0; i < options.runs(); i++) {
                    for (int k = 0; k < memories.size(); k++) {
                        int memory = memories.get((i + k) % memories.size());
                        List<String> jvm = new ArrayList<>(flags);
                        jvm.add("-Xmx" + (memory * 85 / 100) + "m");
                        jvm.addAll(options.jvmFlags().stream().map(x -> x.replace("{memory}", Integer.toString(memory))).toList());
                        try (CpuCgroup.Group group = cgroups.create("usage-tracker-bench-" + memory, memory / MB_PER_VCPU)) {
                            Map<String, String> v = ColdStartBench.probeValues(group.prefix(), classpath, jvm, List.of(), env, "off",
                                    f, events.get(), options.warm(), options.skip());
                            if (!ColdStartBench.expectedStatus(f).equals(v.get("status"))) {
                                throw new IllegalStateException(name + " at " + memory + " MB answered " + v.get("status") + "\n" + v.get("output_tail"));
                            }
                            runs.computeIfAbsent(memory, m -> new ArrayList<>()).add(new Run(Double.parseDouble(v.get("init_ms")),
                                    Double.parseDouble(v.get("first_invoke_ms")), Double.parseDouble(v.get("warm_median_ms")),
                                    Double.parseDouble(v.get("warm_mean_ms")),
                                    Double.parseDouble(v.get("warm_p90_ms")), Double.parseDouble(v.get("warm_p99_ms")),
                                    Double.parseDouble(v.get("warm_cpu_ms")), Long.parseLong(v.get("warm_other_status"))));
                        }
                    }
                }
                List<Row> rows = runs.entrySet().stream().map(e -> new Row(e.getKey(), e.getValue())).toList();
                results.put(name, rows);
                print(out, f, rows, options);
            }
        }
        return results;
    }

    private static void print(PrintStream out, SamTemplate.Function f, List<Row> rows, Options options) {
        Row deployed = rows.stream().filter(r -> r.memoryMb() == f.memoryMb()).findFirst().orElseThrow();
        Row reference = rows.stream().filter(r -> r.memoryMb() == options.awsAtMb()).findFirst().orElseThrow();
        // Lambda bills every invocation's duration: the mean, tail included, is what the bill integrates.
        double referenceWarm = reference.median(Run::warmMeanMs);
        out.printf(Locale.ROOT, "%n%s (template.yaml: %d MB), medians over runs%n", f.logicalId(), f.memoryMb());
        out.printf("  %7s %6s %9s %10s %12s %9s %9s %9s %9s %11s %11s %13s %12s%n", "memory", "vCPU", "init ms", "1st inv ms",
                "init+1st ms", "warm p50", "mean", "p90", "p99", "CPU ms/inv", "other ans.", "AWS ms (mod)", "$ per M inv");
        Map<Integer, Double> costs = new TreeMap<>();
        for (Row r : rows) {
            double modelledMs = Math.max(1, options.awsMs() + r.median(Run::warmMeanMs) - referenceWarm);
            double billedMs = Math.ceil(modelledMs);
            double cost = dollarsPerMillion(r.memoryMb(), billedMs);
            costs.put(r.memoryMb(), cost);
            long other = r.runs().stream().mapToLong(Run::otherStatus).sum();
            out.printf(Locale.ROOT, "  %5d MB %6.2f %9.0f %10.0f %12.0f %9.2f %9.2f %9.2f %9.2f %11.2f %11d %13.0f %12.3f%s%n",
                    r.memoryMb(), r.memoryMb() / MB_PER_VCPU, r.median(Run::initMs), r.median(Run::firstMs),
                    r.median(x -> x.initMs() + x.firstMs()), r.median(Run::warmMedianMs), r.median(Run::warmMeanMs), r.median(Run::warmP90Ms),
                    r.median(Run::warmP99Ms), r.median(Run::cpuMs), other, billedMs, cost, r == deployed ? "   (deployed)" : "");
        }
        double deployedCost = costs.get(deployed.memoryMb());
        double best = costs.values().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        int bestMemory = costs.entrySet().stream().filter(e -> e.getValue() == best).findFirst().orElseThrow().getKey();
        out.printf(Locale.ROOT, "  cheapest: %d MB at $%.3f per million invocations (deployed %d MB: $%.3f, %+.0f %%)%n", bestMemory, best,
                f.memoryMb(), deployedCost, (best / deployedCost - 1) * 100);
        out.printf(Locale.ROOT, "  AWS ms (mod) = %.0f ms assumed at %d MB (--aws-ms, --aws-ms-at) + this run's warm mean at the size − at %d MB,"
                + " billed in 1 ms steps; $ = $%.2f per million requests + memory × billed duration × $%.10f per GB-s (arm64)%n",
                options.awsMs(), options.awsAtMb(), options.awsAtMb(), PER_MILLION_INVOCATIONS, PER_GB_SECOND);
        out.println("  init / 1st inv = a fresh JVM without SnapStart (the deployed functions restore a snapshot instead); "
                + "other ans. = warm answers whose status differed from the first one's (must be 0)");
    }
}
