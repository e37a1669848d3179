package dev.usagetracker.observability;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventAware;

/**
 * One log event as one JSON line: time, level, logger, message, the function, the MDC (correlation id)
 * and the key-value pairs of SLF4J's fluent API as top-level fields. Callers log ids and counts, never
 * keys, emails or tokens: nothing here can tell a secret from a string.
 */
final class JsonLogger extends AbstractLogger implements LoggingEventAware {
    private final transient LogSettings settings;
    private final Level level;

    JsonLogger(String name, LogSettings settings) {
        this.name = name;
        this.settings = settings;
        this.level = settings.levelFor(name);
    }

    @Override public boolean isTraceEnabled() { return enabled(Level.TRACE); }
    @Override public boolean isTraceEnabled(Marker marker) { return enabled(Level.TRACE); }
    @Override public boolean isDebugEnabled() { return enabled(Level.DEBUG); }
    @Override public boolean isDebugEnabled(Marker marker) { return enabled(Level.DEBUG); }
    @Override public boolean isInfoEnabled() { return enabled(Level.INFO); }
    @Override public boolean isInfoEnabled(Marker marker) { return enabled(Level.INFO); }
    @Override public boolean isWarnEnabled() { return enabled(Level.WARN); }
    @Override public boolean isWarnEnabled(Marker marker) { return enabled(Level.WARN); }
    @Override public boolean isErrorEnabled() { return enabled(Level.ERROR); }
    @Override public boolean isErrorEnabled(Marker marker) { return enabled(Level.ERROR); }

    private boolean enabled(Level l) {
        return l.toInt() >= level.toInt();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level l, Marker marker, String pattern, Object[] args, Throwable error) {
        write(l, MessageFormatter.basicArrayFormat(pattern, args), List.of(), error);
    }

    @Override
    public void log(LoggingEvent event) {
        if (!enabled(event.getLevel())) return;
        Object[] args = event.getArgumentArray();
        String message = args == null ? event.getMessage() : MessageFormatter.basicArrayFormat(event.getMessage(), args);
        List<KeyValuePair> pairs = event.getKeyValuePairs() == null ? List.of() : event.getKeyValuePairs();
        write(event.getLevel(), message, pairs, event.getThrowable());
    }

    private void write(Level l, String message, List<KeyValuePair> pairs, Throwable error) {
        JsonLine line = new JsonLine()
                .field("timestamp", Instant.now().toString())
                .field("level", l.name())
                .field("logger", name)
                .field("message", message);
        if (settings.function() != null) line.field("function", settings.function());
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        if (mdc != null) mdc.forEach(line::field);
        for (KeyValuePair p : pairs) line.field(p.key, p.value);
        if (error != null) {
            StringWriter trace = new StringWriter();
            error.printStackTrace(new PrintWriter(trace));
            line.field("error", error.getClass().getName()).field("stack_trace", trace.toString());
        }
        settings.out().println(line);
    }
}
