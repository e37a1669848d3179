package dev.usagetracker.local;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The access-log forwarder as Lambda runs it: its shaded jar alone in a class loader of its own (nothing of
 * the server or of this test's class path), the handler built from an environment, invoked with the jar's own
 * {@code CloudWatchLogsEvent} and a {@code Context} whose remaining time is the invocation's timeout.
 */
public final class ForwarderJar implements AutoCloseable {

    private final URLClassLoader loader;
    private final Object handler;
    private final List<String> logs = new CopyOnWriteArrayList<>();

    /** The jar {@code ./mvnw package} builds under the project root. */
    public static Path jar(Path projectRoot) {
        return projectRoot.resolve("forwarder/target/forwarder.jar");
    }

    public ForwarderJar(Path jar, Map<String, String> environment) throws Exception {
        if (!Files.isRegularFile(jar)) throw new IllegalStateException(jar + " is missing: ./mvnw package builds it");
        loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        Consumer<String> log = logs::add;
        handler = loader.loadClass("dev.usagetracker.forwarder.AccessLogForwarderHandler")
                .getConstructor(Map.class, Clock.class, Consumer.class)
                .newInstance(environment, Clock.systemUTC(), log);
    }

    /** What the forwarder logged: JSON lines, as CloudWatch would keep them. */
    public List<String> logs() {
        return logs;
    }

    /** One invocation; returns the result's counters, or throws what the handler threw (the invocation failed). */
    public Map<String, Integer> invoke(String awslogsData, Duration timeout) throws Exception {
        Class<?> eventType = loader.loadClass("com.amazonaws.services.lambda.runtime.events.CloudWatchLogsEvent");
        Class<?> logsType = loader.loadClass("com.amazonaws.services.lambda.runtime.events.CloudWatchLogsEvent$AWSLogs");
        Class<?> contextType = loader.loadClass("com.amazonaws.services.lambda.runtime.Context");
        Object awsLogs = logsType.getConstructor().newInstance();
        logsType.getMethod("setData", String.class).invoke(awsLogs, awslogsData);
        Object event = eventType.getConstructor().newInstance();
        eventType.getMethod("setAwsLogs", logsType).invoke(event, awsLogs);
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        String requestId = UUID.randomUUID().toString();
        Object context = Proxy.newProxyInstance(loader, new Class<?>[] {contextType}, (proxy, method, args) -> switch (method.getName()) {
            case "getRemainingTimeInMillis" -> (int) Math.max(0, deadline - System.currentTimeMillis());
            case "getAwsRequestId" -> requestId;
            case "getFunctionName" -> "ForwarderFunction";
            case "getMemoryLimitInMB" -> 512;
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            case "toString" -> "Context(" + requestId + ")";
            default -> null;
        });
        Object result;
        try {
            result = handler.getClass().getMethod("handleRequest", eventType, contextType).invoke(handler, event, context);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        Map<String, Integer> counters = new LinkedHashMap<>();
        for (String name : List.of("Events", "Accepted", "Rejected", "Uncertain", "Unparsed", "Requests")) {
            counters.put(name.toLowerCase(java.util.Locale.ROOT), (Integer) result.getClass().getMethod("get" + name).invoke(result));
        }
        return counters;
    }

    @Override
    public void close() throws Exception {
        loader.close();
    }
}
