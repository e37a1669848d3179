package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.net.MalformedURLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warm containers of one function. A container serves one invocation at a time; a new one is
 * started (cold start: own class loader, own static init) when all are busy, up to a concurrency
 * limit, after which callers wait, as with Lambda's reserved concurrency.
 */
public final class FunctionPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FunctionPool.class);

    private final SamTemplate.Function function;
    private final Path jar;
    private volatile Map<String, String> environment;
    private final Semaphore concurrency;
    private final Deque<Container> idle = new ArrayDeque<>();
    private final List<Container> all = new ArrayList<>();
    private final AtomicInteger started = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong invocations = new java.util.concurrent.atomic.AtomicLong();

    /** One initialised copy of the function. */
    public record Container(int number, ContainerClassLoader loader, RequestHandler<Object, Object> handler, long initMillis) {}

    public FunctionPool(SamTemplate.Function function, Path projectRoot, Map<String, String> environment, int maxConcurrency) {
        this.function = function;
        this.jar = projectRoot.resolve(function.codeUri());
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(function.logicalId() + ": " + jar + " is missing; build with ./mvnw package");
        }
        this.environment = Map.copyOf(environment);
        this.concurrency = new Semaphore(maxConcurrency, true);
    }

    public SamTemplate.Function function() {
        return function;
    }

    Map<String, String> environment() {
        return environment;
    }

    /** Adds variables known only once the gateway has bound its ports; before any container starts. */
    void addEnvironment(Map<String, String> more) {
        if (started.get() > 0) throw new IllegalStateException(function.logicalId() + " has started containers already");
        Map<String, String> merged = new java.util.HashMap<>(environment);
        merged.putAll(more);
        environment = Map.copyOf(merged);
    }

    /** Runs one invocation; the result is whatever the handler returned. */
    public Object invoke(Object event) throws Exception {
        if (!concurrency.tryAcquire(function.timeoutSeconds() + 30L, TimeUnit.SECONDS)) {
            throw new Throttled(function.logicalId() + " is throttled: all containers stayed busy");
        }
        Container container = null;
        invocations.incrementAndGet();
        try {
            container = take();
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            thread.setContextClassLoader(container.loader());
            try {
                return container.handler().handleRequest(event, new LocalContext(UUID.randomUUID().toString(),
                        function.logicalId(), function.memoryMb(),
                        System.currentTimeMillis() + function.timeoutSeconds() * 1000L));
            } finally {
                thread.setContextClassLoader(previous);
            }
        } finally {
            if (container != null) {
                synchronized (idle) {
                    idle.push(container);
                }
            }
            concurrency.release();
        }
    }

    /** Starts one container ahead of traffic, so the first request is not a cold start. */
    public void prewarm() throws Exception {
        Container c = start();
        synchronized (idle) {
            idle.push(c);
        }
    }

    public int containers() {
        synchronized (idle) {
            return all.size();
        }
    }

    public long invocations() {
        return invocations.get();
    }

    /** The init (cold start) time of every container started so far, in start order. */
    public List<Long> initMillis() {
        synchronized (idle) {
            return all.stream().map(Container::initMillis).toList();
        }
    }

    private Container take() throws Exception {
        synchronized (idle) {
            Container c = idle.poll();
            if (c != null) return c;
        }
        return start();
    }

    @SuppressWarnings("unchecked")
    private Container start() throws Exception {
        int number = started.incrementAndGet();
        long t0 = System.nanoTime();
        ContainerClassLoader loader;
        try {
            loader = new ContainerClassLoader(function.logicalId() + "#" + number, jar.toUri().toURL(),
                    FunctionPool.class.getClassLoader());
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            // What Lambda does with the function's configured environment, before the handler class loads.
            loader.loadClass("dev.usagetracker.config.LambdaEnvironment").getMethod("install", Map.class)
                    .invoke(null, environment);
            Object handler = loader.loadClass(function.handlerClass()).getDeclaredConstructor().newInstance();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            LOG.info("{} container #{} initialised in {} ms", function.logicalId(), number, ms);
            Container c = new Container(number, loader, (RequestHandler<Object, Object>) handler, ms);
            synchronized (idle) {
                all.add(c);
            }
            return c;
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @Override
    public void close() {
        synchronized (idle) {
            for (Container c : all) {
                try {
                    // Lambda's shutdown phase: let the container close its connections and threads.
                    c.loader().loadClass("dev.usagetracker.config.ContainerLifecycle").getMethod("shutdown").invoke(null);
                } catch (ReflectiveOperationException | RuntimeException | LinkageError ignored) {
                    // an older jar without the hook: nothing to close
                }
                try {
                    c.loader().close();
                } catch (java.io.IOException ignored) {
                    // the jar is read-only; nothing to lose
                }
            }
            all.clear();
            idle.clear();
        }
    }

    /** Every container stayed busy for the function's timeout and more: what Lambda calls throttling. */
    public static final class Throttled extends IllegalStateException {
        Throttled(String message) {
            super(message);
        }
    }
}
