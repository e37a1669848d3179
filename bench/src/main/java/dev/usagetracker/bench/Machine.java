package dev.usagetracker.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** What the numbers were measured on, printed at the top of every benchmark. */
final class Machine {
    private Machine() {}

    static void print(PrintStream out, String benchmark) {
        out.println("== " + benchmark + " ==");
        out.printf(Locale.ROOT, "machine: %d cores (nproc), CPU %s, RAM %s, JDK %s (%s), load average %s%n",
                Runtime.getRuntime().availableProcessors(), cpuModel(), memory(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"), loadAverage());
        out.println("note: a shared 2-core machine where other builds and test suites run at the same time: absolute "
                + "timings are noisy; compare the ratios and medians measured in this same run.");
    }

    static String cpuModel() {
        return read("/proc/cpuinfo").lines().filter(l -> l.startsWith("model name")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    }

    static String memory() {
        return read("/proc/meminfo").lines().filter(l -> l.startsWith("MemTotal:")).findFirst()
                .map(l -> String.format(Locale.ROOT, "%.1f GiB",
                        Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0)).orElse("unknown");
    }

    static String loadAverage() {
        String s = read("/proc/loadavg").trim();
        return s.isEmpty() ? "unknown" : String.join(" ", java.util.Arrays.asList(s.split("\\s+")).subList(0, 3));
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            return "";
        }
    }
}
