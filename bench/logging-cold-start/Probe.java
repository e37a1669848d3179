import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * What a function pays on its cold start for logging and metrics: the first logger, a log line with a
 * correlation id and key-value pairs, and one EMF record, in a fresh JVM. Variant "handmade" runs on the
 * real ingest function jar (our JSON SLF4J provider and EMF writer); "powertools" on Powertools 2.7.0
 * (Log4j 2 with the Lambda JSON layout, and powertools-metrics).
 */
public class Probe {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        Logger log = LoggerFactory.getLogger("dev.usagetracker.bench.Probe");
        MDC.put("correlation_id", "probe-request-id");
        log.atInfo().addKeyValue("status", 202).addKeyValue("duration_ms", 3).log("request completed");
        if (args[0].equals("handmade")) {
            Class<?> metrics = Class.forName("dev.usagetracker.observability.Metrics");
            Object m = metrics.getMethod("begin").invoke(null);
            metrics.getMethod("count", String.class, double.class).invoke(m, "HitsAccepted", 1.0);
            metrics.getMethod("flush").invoke(m);
        } else {
            Class<?> factory = Class.forName("software.amazon.lambda.powertools.metrics.MetricsFactory");
            Class<?> unit = Class.forName("software.amazon.lambda.powertools.metrics.model.MetricUnit");
            Object m = factory.getMethod("getMetricsInstance").invoke(null);
            Class<?> api = Class.forName("software.amazon.lambda.powertools.metrics.Metrics");
            api.getMethod("addMetric", String.class, double.class, unit).invoke(m, "HitsAccepted", 1.0,
                    unit.getField("COUNT").get(null));
            api.getMethod("flush").invoke(m);
        }
        long t1 = System.nanoTime();
        System.err.printf("RESULT %.1f%n", (t1 - t0) / 1e6);
    }
}
