package dev.usagetracker.config;

import java.util.Map;

/**
 * The environment a function sees. On Lambda it is the process environment; the local runtime runs
 * several functions in one JVM, each in its own class loader, and installs the function's resolved
 * template environment here before the handler class is initialised.
 */
public final class LambdaEnvironment {
    private static volatile Map<String, String> current = System.getenv();

    private LambdaEnvironment() {}

    public static Map<String, String> get() {
        return current;
    }

    /** Called reflectively by the local runtime, once per container, before the handler loads. */
    public static void install(Map<String, String> environment) {
        current = Map.copyOf(environment);
    }
}
