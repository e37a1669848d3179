package dev.usagetracker.observability;

import dev.usagetracker.config.LambdaEnvironment;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.slf4j.event.Level;

/**
 * Where and how much to log, from the function's environment: {@code LOG_LEVEL} (default INFO) for the
 * service's own loggers, {@code LOG_LEVEL_LIBRARIES} (default WARN) for everything else but the
 * {@code audit} logger (INFO at least), and
 * {@code LOG_OUTPUT} = {@code stderr} (default), {@code stdout} or {@code file:PATH} (appended; tests
 * read it back).
 */
record LogSettings(Level serviceLevel, Level libraryLevel, PrintStream out, String function) {
    static final String SERVICE_PACKAGE = "dev.usagetracker.";
    /** Who did what to which client (admin reads and changes, erasures): kept at INFO whatever LOG_LEVEL says. */
    static final String AUDIT_LOGGER = "audit";

    static LogSettings fromEnvironment() {
        return from(LambdaEnvironment.get());
    }

    static LogSettings from(Map<String, String> env) {
        return new LogSettings(level(env.get("LOG_LEVEL"), Level.INFO), level(env.get("LOG_LEVEL_LIBRARIES"), Level.WARN),
                output(env.getOrDefault("LOG_OUTPUT", "stderr")), env.get("AWS_LAMBDA_FUNCTION_NAME"));
    }

    Level levelFor(String logger) {
        // "audit" is not under the service's package: as a library logger its INFO lines were dropped
        if (logger.equals(AUDIT_LOGGER)) return serviceLevel.toInt() < Level.INFO.toInt() ? serviceLevel : Level.INFO;
        return logger.startsWith(SERVICE_PACKAGE) ? serviceLevel : libraryLevel;
    }

    private static Level level(String name, Level fallback) {
        if (name == null || name.isBlank()) return fallback;
        try {
            return Level.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return fallback;
        }
    }

    static PrintStream output(String spec) {
        return switch (spec) {
            case "stdout" -> System.out;
            case "stderr" -> System.err;
            default -> {
                if (!spec.startsWith("file:")) yield System.err;
                Path file = Path.of(spec.substring("file:".length()));
                try {
                    if (file.getParent() != null) Files.createDirectories(file.getParent());
                    OutputStream append = new FileOutputStream(file.toFile(), true);
                    yield new PrintStream(append, true, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot log to " + file, e);
                }
            }
        };
    }
}
