package dev.usagetracker.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warm-up work a container does once before its first request: a cheap, side-effect-free call per client
 * loads and links that client's request path (marshallers, signer, endpoint rules, HTTP) and opens its
 * connection. Steps run in parallel, so the clients' first calls overlap instead of queueing in the first
 * request; a failing step is logged and ignored, since priming must never fail a container.
 *
 * <p>{@code PRIMING}: {@code checkpoint} (default, template.yaml) primes only in {@link #beforeCheckpoint},
 * once per SnapStart version, never on a request's path; {@code init} primes in the handler's constructor
 * (bench/cold-start measured it slower for a fresh JVM on two busy cores: the warm-ups compete with class
 * loading); {@code off} never primes (the benchmark's baseline).
 * Registered as a CRaC resource by the composition root: after a restore it refreshes what must differ
 * between the copies of one snapshot (see {@link #afterRestore}).
 */
public final class Priming implements Resource {
    private static final Logger LOG = LoggerFactory.getLogger(Priming.class);
    static final long MAX_WAIT_MILLIS = 8_000;

    public enum Mode { OFF, INIT, CHECKPOINT }

    /** One warm-up call. */
    public record Step(String name, Runnable action) {}

    private final Mode mode;
    private final List<Step> deferred = new CopyOnWriteArrayList<>();
    private final List<Runnable> afterRestore = new CopyOnWriteArrayList<>();

    public Priming(Mode mode) {
        this.mode = mode;
        // org.crac keeps only a weak reference: the composition root holds this object for the container's life.
        Core.getGlobalContext().register(this);
    }

    public static Mode mode(Map<String, String> environment) {
        String value = environment.getOrDefault("PRIMING", "checkpoint").trim().toUpperCase(Locale.ROOT);
        return switch (value) {
            case "OFF", "FALSE", "NONE" -> Mode.OFF;
            case "INIT" -> Mode.INIT;
            default -> Mode.CHECKPOINT;
        };
    }

    public Mode mode() {
        return mode;
    }

    /** Primes now or before the snapshot, as configured. */
    public void prime(List<Step> steps) {
        switch (mode) {
            case INIT -> run(steps);
            case CHECKPOINT -> deferred.addAll(steps);
            case OFF -> { }
        }
    }

    /** Work to redo in every restored copy of a snapshot (fresh randomness, caches that must not be shared). */
    public void onRestore(Runnable action) {
        afterRestore.add(action);
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        List<Step> steps = new ArrayList<>(deferred);
        deferred.clear();
        run(steps);
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        afterRestore.forEach(Runnable::run);
    }

    static void run(List<Step> steps) {
        if (steps.isEmpty()) return;
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (Step step : steps.subList(1, steps.size())) {
            threads.add(Thread.ofPlatform().daemon().name("priming-" + step.name()).start(() -> attempt(step)));
        }
        attempt(steps.getFirst());
        long deadline = System.currentTimeMillis() + MAX_WAIT_MILLIS;
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, deadline - System.currentTimeMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        LOG.debug("primed {} in {} ms", steps.stream().map(Step::name).toList(), (System.nanoTime() - t0) / 1_000_000);
    }

    private static void attempt(Step step) {
        try {
            step.action().run();
        } catch (RuntimeException e) {
            LOG.warn("priming step {} failed ({}); the first request will pay for it", step.name(), e.getClass().getSimpleName());
        }
    }
}
