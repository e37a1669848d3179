package dev.usagetracker.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where {@code ./scripts/dev} keeps the emulators' data between runs ({@code .local/state/}): moto's
 * DynamoDB and KMS backends as a snapshot, redis-server's append-only file, ElasticMQ's queues and
 * messages in H2. One runtime at a time holds its lock; the emulator processes of a runtime that died
 * without stopping them (kill -9) are found through their pid files and stopped — redis-server flushes
 * its AOF on SIGTERM — before new ones start on the same files. Tests never use it.
 */
public final class LocalState implements AutoCloseable {
    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private LocalState(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Takes the state directory for this runtime; {@code fresh} deletes what it held first. */
    public static LocalState open(Path dir, boolean fresh) {
        try {
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                throw new IllegalStateException("another local runtime is using " + dir
                        + "; stop it, or give this one LOCAL_STATE_DIR=<another directory>");
            }
            LocalState state = new LocalState(dir, channel, lock);
            state.stopOrphans();
            if (fresh) state.wipe();
            return state;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** moto's pickled DynamoDB and KMS backends. */
    public Path motoSnapshot() {
        return dir.resolve("moto/state.pickle");
    }

    /** redis-server's working directory: its append-only file. */
    public Path redisDir() {
        return dir.resolve("redis");
    }

    /** ElasticMQ's H2 database (the path without H2's .mv.db suffix). */
    public Path sqsDatabase() {
        return dir.resolve("sqs/messages");
    }

    /** Whether a previous run left anything (a fresh state prints so). */
    public boolean isEmpty() {
        return Stream.of(motoSnapshot(), redisDir(), sqsDatabase().resolveSibling("messages.mv.db")).noneMatch(Files::exists);
    }

    /** Remembers an emulator process, so that a runtime after a crash of this one can stop it. */
    public void recordPid(String name, long pid) {
        try {
            Files.writeString(dir.resolve(name + ".pid"), Long.toString(pid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Emulators of a runtime that was killed before it could stop them: SIGTERM (they save), then SIGKILL. */
    private void stopOrphans() throws IOException {
        try (Stream<Path> pidFiles = Files.list(dir)) {
            for (Path pidFile : pidFiles.filter(p -> p.getFileName().toString().endsWith(".pid")).toList()) {
                String name = pidFile.getFileName().toString().replace(".pid", "");
                Optional<ProcessHandle> orphan = readPid(pidFile).flatMap(ProcessHandle::of)
                        .filter(p -> commandLine(p.pid()).contains(commandOf(name)));
                orphan.ifPresent(p -> {
                    p.destroy();
                    Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
                    while (p.isAlive() && Instant.now().isBefore(deadline)) ManagedProcess.sleep(50);
                    if (p.isAlive()) p.destroyForcibly();
                });
                Files.deleteIfExists(pidFile);
            }
        }
    }

    /**
     * /proc's view: ProcessHandle.Info has no command line for redis-server, which rewrites its argv
     * ("redis-server 127.0.0.1:port") and whose executable may be a link (Debian: redis-check-rdb).
     */
    private static String commandLine(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            return ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).orElse("");
        }
    }

    private static String commandOf(String name) {
        return name.equals("redis") ? "redis-server" : "moto";
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private void wipe() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.filter(p -> !p.getFileName().toString().equals("lock")).toList()) {
                try (Stream<Path> tree = Files.walk(entry)) {
                    for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // the lock goes with the process anyway
        }
    }
}
