package dev.usagetracker.bench;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.amazonaws.services.lambda.runtime.serialization.factories.JacksonFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * What the Lambda Java runtime does in a fresh execution environment, in a fresh JVM whose class path is
 * one function jar (plus this class and the runtime's serialisation library): load and construct the
 * handler (the static init Lambda reports as Init Duration), then decode a fixture event the way the
 * runtime does, invoke the handler and encode its answer (the first invocation's Duration), then a few
 * warm invocations. It uses nothing else from the bench, so nothing else is loaded or warmed.
 *
 * <p>Arguments: handler class, event file, number of warm invocations, and optionally how many of them
 * are a warm-up left out of the warm figures (default 0). Each {@code {{uuid}}} in the event is replaced by a
 * fresh UUID per invocation. Prints one line: {@code PROBE key=value ...}: the warm median, mean, p90 and p99, the
 * process's CPU time per warm invocation (every thread: the handler's, the SDK's event loops, GC and JIT),
 * and how many warm answers differed from the first one's status.
 */
public final class ColdStartProbe {
    private ColdStartProbe() {}

    public static void main(String[] args) throws Exception {
        long mainEpochMs = System.currentTimeMillis();
        long t0 = System.nanoTime();
        String handlerClass = args[0];
        String event = Files.readString(Path.of(args[1]));
        int warm = Integer.parseInt(args[2]);
        int skip = args.length > 3 ? Integer.parseInt(args[3]) : 0;

        ClassLoader loader = ColdStartProbe.class.getClassLoader();
        Class<?> type = Class.forName(handlerClass, true, loader);
        @SuppressWarnings("unchecked")
        RequestHandler<Object, Object> handler = (RequestHandler<Object, Object>) type.getDeclaredConstructor().newInstance();
        long t1 = System.nanoTime();

        Method method = handleRequest(type);
        PojoSerializer<Object> in = serializer(method.getParameterTypes()[0], loader);
        PojoSerializer<Object> out = serializer(method.getReturnType(), loader);
        String firstAnswer = invoke(handler, in, out, event);
        long t2 = System.nanoTime();
        long classes = ManagementFactory.getClassLoadingMXBean().getTotalLoadedClassCount();

        for (int i = 0; i < Math.min(skip, warm); i++) invoke(handler, in, out, event);
        int timed = Math.max(0, warm - skip);
        long[] warmNanos = new long[timed];
        int otherStatus = 0;
        long cpu0 = processCpuNanos();
        for (int i = 0; i < timed; i++) {
            long s = System.nanoTime();
            String answer = invoke(handler, in, out, event);
            warmNanos[i] = System.nanoTime() - s;
            if (!status(answer).equals(status(firstAnswer))) otherStatus++;
        }
        double cpuPerWarmMs = timed == 0 ? -1 : (processCpuNanos() - cpu0) / 1e6 / timed;
        double warmMeanMs = timed == 0 ? -1 : java.util.Arrays.stream(warmNanos).average().orElse(0) / 1e6;
        java.util.Arrays.sort(warmNanos);
        double warmMedianMs = percentileMs(warmNanos, 50);

        System.out.printf(java.util.Locale.ROOT, "PROBE main_epoch_ms=%d init_ms=%.2f first_invoke_ms=%.2f warm_median_ms=%.3f"
                        + " warm_mean_ms=%.3f warm_p90_ms=%.3f warm_p99_ms=%.3f warm_cpu_ms=%.3f warm_other_status=%d classes=%d status=%s%n",
                mainEpochMs, (t1 - t0) / 1e6, (t2 - t1) / 1e6, warmMedianMs, warmMeanMs, percentileMs(warmNanos, 90),
                percentileMs(warmNanos, 99), cpuPerWarmMs, otherStatus, classes, status(firstAnswer));
        System.out.flush();
        // The function's non-daemon threads (SDK, caches) must not keep the probe JVM alive.
        System.exit(0);
    }

    /** Nearest-rank percentile of sorted durations, in ms; -1 when nothing was timed. */
    private static double percentileMs(long[] sortedNanos, int percent) {
        if (sortedNanos.length == 0) return -1;
        int rank = (int) Math.ceil(percent / 100.0 * sortedNanos.length);
        return sortedNanos[Math.max(0, rank - 1)] / 1e6;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static String invoke(RequestHandler<Object, Object> handler, PojoSerializer<Object> in,
                                 PojoSerializer<Object> out, String event) {
        String json = event.replace("{{uuid}}", UUID.randomUUID().toString());
        Object decoded = in.fromJson(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        Object answer = handler.handleRequest(decoded, CONTEXT);
        ByteArrayOutputStream encoded = new ByteArrayOutputStream();
        out.toJson(answer, encoded);
        return encoded.toString(StandardCharsets.UTF_8);
    }

    /** The typed handleRequest, not the erased bridge method. */
    private static Method handleRequest(Class<?> type) {
        for (Method m : type.getMethods()) {
            if (m.getName().equals("handleRequest") && m.getParameterCount() == 2 && !m.isBridge()) return m;
        }
        throw new IllegalArgumentException(type + " has no handleRequest(event, context)");
    }

    /** As the runtime chooses: its event serialisers for AWS event types, plain Jackson for the rest. */
    @SuppressWarnings("unchecked")
    private static PojoSerializer<Object> serializer(Class<?> type, ClassLoader loader) {
        if (LambdaEventSerializers.isLambdaSupportedEvent(type.getName())) {
            return (PojoSerializer<Object>) LambdaEventSerializers.serializerFor(type, loader);
        }
        return (PojoSerializer<Object>) JacksonFactory.getInstance().getSerializer(type);
    }

    /** statusCode of an HTTP answer, isAuthorized of an authorizer's, "failed" for a queue batch with failed messages, "ok" otherwise. */
    private static String status(String answer) {
        if (java.util.regex.Pattern.compile("\"batchItemFailures\"\\s*:\\s*\\[\\s*\\{").matcher(answer).find()) return "failed";
        var m = java.util.regex.Pattern.compile("\"(statusCode|isAuthorized)\"\\s*:\\s*\"?([0-9a-z]+)").matcher(answer);
        return m.find() ? m.group(2) : "ok";
    }

    private static final Context CONTEXT = new Context() {
        private final LambdaLogger logger = new LambdaLogger() {
            @Override public void log(String message) { System.err.println(message); }
            @Override public void log(byte[] message) { System.err.println(new String(message, StandardCharsets.UTF_8)); }
        };
        @Override public String getAwsRequestId() { return UUID.randomUUID().toString(); }
        @Override public String getLogGroupName() { return "/aws/lambda/probe"; }
        @Override public String getLogStreamName() { return "probe"; }
        @Override public String getFunctionName() { return "probe"; }
        @Override public String getFunctionVersion() { return "$LATEST"; }
        @Override public String getInvokedFunctionArn() { return "arn:aws:lambda:us-east-1:000000000000:function:probe"; }
        @Override public CognitoIdentity getIdentity() { return null; }
        @Override public ClientContext getClientContext() { return null; }
        @Override public int getRemainingTimeInMillis() { return 30_000; }
        @Override public int getMemoryLimitInMB() { return 1024; }
        @Override public LambdaLogger getLogger() { return logger; }
    };
}
