package dev.usagetracker.observability;

import dev.usagetracker.config.LambdaEnvironment;
import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.MDC;

/**
 * CloudWatch Embedded Metric Format: one JSON line per unit of work (an ingest request, a consumer
 * batch) that CloudWatch Logs turns into metrics, with no API call and no extra latency. Dimensions
 * are the service and the function only (low cardinality); ids such as the correlation id ride along
 * as properties, searchable in Logs Insights but not metrics.
 *
 * <p>{@code METRICS_OUTPUT}: {@code stdout} (default; what Lambda sends to CloudWatch), {@code off},
 * or {@code file:PATH}. {@code METRICS_NAMESPACE} defaults to {@code UsageTracker}.
 */
public final class Metrics {
    public static final String HITS_ACCEPTED = "HitsAccepted";
    public static final String INGEST_FALLBACKS = "IngestFallbacks";
    public static final String INGEST_REJECTED = "IngestRejected";
    public static final String CONSUMER_BATCH_SIZE = "ConsumerBatchSize";
    public static final String CONSUMER_LAG = "ConsumerLagMillis";
    public static final String HITS_RECORDED = "HitsRecorded";
    public static final String DUPLICATES_DROPPED = "DuplicatesDropped";
    public static final String MESSAGES_FAILED = "MessagesFailed";
    public static final String RATE_LIMIT_REJECTIONS = "RateLimitRejections";

    private static volatile Sink sink;

    private final Map<String, Double> values = new LinkedHashMap<>();
    private final Map<String, String> units = new LinkedHashMap<>();
    private final Map<String, Object> properties = new LinkedHashMap<>();

    private Metrics() {}

    /** Metrics of one unit of work; nothing is written until {@link #flush()}. */
    public static Metrics begin() {
        return new Metrics();
    }

    public Metrics count(String name, double value) {
        return put(name, value, "Count");
    }

    public Metrics millis(String name, double value) {
        return put(name, value, "Milliseconds");
    }

    public Metrics property(String name, Object value) {
        properties.put(name, value);
        return this;
    }

    private Metrics put(String name, double value, String unit) {
        values.merge(name, value, Double::sum);
        units.put(name, unit);
        return this;
    }

    /** Writes the EMF line (if any metric was set); never throws: metrics must not fail a request. */
    public void flush() {
        if (values.isEmpty()) return;
        try {
            Sink s = sink();
            if (s.out() != null) s.out().println(render(s, Clock.systemUTC().millis()));
        } catch (RuntimeException ignored) {
            // a lost metric line is better than a failed request
        }
    }

    String render(Sink s, long timestamp) {
        List<String> definitions = new ArrayList<>();
        units.forEach((name, unit) -> definitions.add("{\"Name\":" + JsonLine.quote(name) + ",\"Unit\":\"" + unit + "\"}"));
        String directive = "{\"Timestamp\":" + timestamp + ",\"CloudWatchMetrics\":[{\"Namespace\":"
                + JsonLine.quote(s.namespace()) + ",\"Dimensions\":[[\"service\",\"function\"]],\"Metrics\":["
                + String.join(",", definitions) + "]}]}";
        JsonLine line = new JsonLine().raw("_aws", directive)
                .field("service", s.service())
                .field("function", s.function());
        values.forEach((name, value) -> line.field(name, value == Math.rint(value) ? (Object) value.longValue() : value));
        String correlation = MDC.get(Correlation.MDC_KEY);
        if (correlation != null && !properties.containsKey(Correlation.MDC_KEY)) line.field(Correlation.MDC_KEY, correlation);
        properties.forEach(line::field);
        return line.toString();
    }

    static Sink sink() {
        Sink s = sink;
        if (s == null) {
            Map<String, String> env = LambdaEnvironment.get();
            String output = env.getOrDefault("METRICS_OUTPUT", "stdout");
            s = new Sink("off".equals(output) ? null : LogSettings.output(output),
                    env.getOrDefault("METRICS_NAMESPACE", "UsageTracker"),
                    env.getOrDefault("POWERTOOLS_SERVICE_NAME", "usage-tracker"),
                    env.getOrDefault("AWS_LAMBDA_FUNCTION_NAME", "local"));
            sink = s;
        }
        return s;
    }

    record Sink(PrintStream out, String namespace, String service, String function) {}
}
