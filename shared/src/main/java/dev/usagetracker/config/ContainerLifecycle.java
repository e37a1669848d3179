package dev.usagetracker.config;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What a container holds open (its SDK clients, a Redis connection and their threads). Lambda simply freezes and later
 * discards a container; the local runtime, which runs many containers in one JVM, calls {@link #shutdown()}
 * (reflectively, in the container's class loader) when it retires one, so no threads outlive their classes.
 */
public final class ContainerLifecycle {
    private static final List<AutoCloseable> OPEN = new CopyOnWriteArrayList<>();

    private ContainerLifecycle() {}

    public static <T extends AutoCloseable> T register(T resource) {
        OPEN.add(resource);
        return resource;
    }

    public static void shutdown() {
        List<AutoCloseable> open = new ArrayList<>(OPEN);
        OPEN.clear();
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // closing the rest matters more
            }
        }
    }
}
