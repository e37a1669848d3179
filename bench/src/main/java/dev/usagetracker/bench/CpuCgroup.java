package dev.usagetracker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A CPU-limited cgroup for one child process, as Lambda limits a function to its memory's share of a CPU:
 * cgroup v1's {@code cpu} controller ({@code cpu.cfs_quota_us}) or cgroup v2's {@code cpu.max}. Needs write
 * access to the hierarchy (root, or a delegated subtree); {@link #find()} says plainly when there is none.
 */
final class CpuCgroup {
    static final long PERIOD_US = 100_000;   // the kernel's default CFS period

    private final Path parent;
    private final boolean v2;

    private CpuCgroup(Path parent, boolean v2) {
        this.parent = parent;
        this.v2 = v2;
    }

    static CpuCgroup find() {
        Path v1 = Path.of("/sys/fs/cgroup/cpu");
        if (Files.isWritable(v1.resolve("cpu.cfs_quota_us")) || Files.isDirectory(v1) && Files.isWritable(v1)) {
            return new CpuCgroup(v1, false);
        }
        Path v2 = Path.of("/sys/fs/cgroup");
        if (Files.exists(v2.resolve("cgroup.controllers")) && Files.isWritable(v2)) return new CpuCgroup(v2, true);
        throw new IllegalStateException("bench/lambda-memory needs a writable CPU cgroup (run as root, or in a delegated"
                + " cgroup v2 subtree): neither /sys/fs/cgroup/cpu (v1) nor /sys/fs/cgroup (v2) is writable here");
    }

    String describe() {
        return v2 ? "cgroup v2 (cpu.max)" : "cgroup v1 (cpu.cfs_quota_us)";
    }

    /** A fresh group limited to {@code cpus} of one CPU; closing it removes it (its process has exited by then). */
    Group create(String name, double cpus) throws IOException {
        Path dir = parent.resolve(name);
        if (Files.isDirectory(dir)) Files.delete(dir);
        Files.createDirectory(dir);
        long quota = Math.max(1000, Math.round(cpus * PERIOD_US));
        if (v2) {
            if (!Files.readString(parent.resolve("cgroup.subtree_control")).contains("cpu")) {
                Files.writeString(parent.resolve("cgroup.subtree_control"), "+cpu");
            }
            Files.writeString(dir.resolve("cpu.max"), quota + " " + PERIOD_US);
        } else {
            Files.writeString(dir.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_US));
            Files.writeString(dir.resolve("cpu.cfs_quota_us"), Long.toString(quota));
        }
        return new Group(dir);
    }

    record Group(Path dir) implements AutoCloseable {
        /** Runs before the command: the shell moves itself into the group, then becomes the command. */
        List<String> prefix() {
            return List.of("sh", "-c", String.format(Locale.ROOT, "echo $$ > %s && exec \"$@\"", dir.resolve("cgroup.procs")), "sh");
        }

        @Override
        public void close() throws IOException {
            Files.deleteIfExists(dir);
        }
    }
}
