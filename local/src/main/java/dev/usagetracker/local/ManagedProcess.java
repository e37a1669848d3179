package dev.usagetracker.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** An emulator started as a child process, its output in a log file, stopped with the runtime. */
public final class ManagedProcess implements AutoCloseable {
    private final String name;
    private final List<String> command;
    private final Path log;
    private final BooleanSupplier ready;
    private Process process;

    public ManagedProcess(String name, List<String> command, Path log, BooleanSupplier ready) {
        this.name = name;
        this.command = List.copyOf(command);
        this.log = log;
        this.ready = ready;
    }

    public synchronized ManagedProcess start(Duration timeout) {
        try {
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException(name + " could not be started (" + String.join(" ", command)
                    + "): " + e.getMessage() + ". Run ./scripts/dev or ./scripts/test, which install it.", e);
        }
        Instant deadline = Instant.now().plus(timeout);
        while (!ready.getAsBoolean()) {
            if (!process.isAlive()) {
                throw new ExitedAtStart(name + " exited with " + process.exitValue() + lastLogLine() + "; see " + log);
            }
            if (Instant.now().isAfter(deadline)) {
                close();
                throw new IllegalStateException(name + " was not ready within " + timeout.toSeconds() + " s; see " + log);
            }
            sleep(50);
        }
        return this;
    }

    /** The log's last two lines, which say why a process stopped (redis: "bind: Address already in use", "aborting"). */
    private String lastLogLine() {
        try {
            List<String> lines = Files.readAllLines(log, java.nio.charset.StandardCharsets.UTF_8).stream()
                    .map(String::strip).filter(line -> !line.isEmpty()).toList();
            if (lines.isEmpty()) return "";
            String tail = String.join(" / ", lines.subList(Math.max(0, lines.size() - 2), lines.size()));
            return " (" + (tail.length() > 400 ? tail.substring(tail.length() - 400) : tail) + ")";
        } catch (IOException | RuntimeException e) {
            return ""; // the log is a courtesy here; the exit code is reported anyway
        }
    }

    /** The process ended before it was ready: for a server, most often because its port was taken meanwhile. */
    public static final class ExitedAtStart extends IllegalStateException {
        ExitedAtStart(String message) {
            super(message);
        }
    }

    /**
     * Starts a server, again on the same port when it exits at once, up to {@code attempts} times
     * {@code pause} apart: a port found free can be taken before the server binds it — by another
     * process, or as the ephemeral local port of an outgoing connection (a readiness probe's, a client
     * pool's), which on loopback is drawn from the same range — and such a holder lets go within seconds.
     */
    public static ManagedProcess startRetrying(int attempts, Duration pause, java.util.function.Supplier<ManagedProcess> start) {
        for (int attempt = 1; ; attempt++) {
            try {
                return start.get();
            } catch (ExitedAtStart e) {
                if (attempt >= attempts) throw e;
                sleep(pause.toMillis());
            }
        }
    }

    public synchronized long pid() {
        return process.pid();
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /**
     * Freezes the process and its children (SIGSTOP): it keeps its sockets and its in-memory data but
     * answers nothing, like a hung server or a network partition; {@link #resume()} continues it.
     */
    public synchronized void pause() {
        signal("STOP");
    }

    public synchronized void resume() {
        signal("CONT");
    }

    private void signal(String signal) {
        if (process == null || !process.isAlive()) throw new IllegalStateException(name + " is not running");
        java.util.List<String> command = new java.util.ArrayList<>(List.of("kill", "-" + signal, Long.toString(process.pid())));
        process.descendants().forEach(d -> command.add(Long.toString(d.pid())));
        try {
            int exit = new ProcessBuilder(command).redirectErrorStream(true).start().waitFor();
            if (exit != 0) throw new IllegalStateException("kill -" + signal + " " + name + " exited with " + exit);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Kills the process at once, as a crash would. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitFor();
        }
    }

    @Override
    public synchronized void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            waitFor();
            if (process.isAlive()) kill();
        }
    }

    private void waitFor() {
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
