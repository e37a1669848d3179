package dev.usagetracker.observability;

import org.slf4j.MDC;

/**
 * The correlation id of the work in hand: the API Gateway request id of the request that brought the
 * hits, carried to the consumer as the SQS message attribute {@value #MESSAGE_ATTRIBUTE}. It is in the
 * MDC, so every log line and EMF record of that work carries it.
 */
public final class Correlation {
    public static final String MDC_KEY = "correlation_id";
    public static final String MESSAGE_ATTRIBUTE = "correlation_id";

    private Correlation() {}

    /** Sets the id for the current thread; close the scope when the work is done. */
    public static Scope begin(String correlationId) {
        String previous = MDC.get(MDC_KEY);
        if (correlationId == null || correlationId.isEmpty()) MDC.remove(MDC_KEY);
        else MDC.put(MDC_KEY, correlationId);
        return () -> {
            if (previous == null) MDC.remove(MDC_KEY);
            else MDC.put(MDC_KEY, previous);
        };
    }

    public static String current() {
        return MDC.get(MDC_KEY);
    }

    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
