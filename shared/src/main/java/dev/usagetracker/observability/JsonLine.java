package dev.usagetracker.observability;

import java.util.Collection;
import java.util.Map;

/**
 * A flat JSON object written by hand for the log and metric lines: no mapper to initialise on a cold
 * start, and numbers, booleans, strings and lists of them are all these lines hold.
 */
final class JsonLine {
    private final StringBuilder sb = new StringBuilder(256).append('{');

    JsonLine field(String name, Object value) {
        if (sb.length() > 1) sb.append(',');
        string(name);
        sb.append(':');
        value(value);
        return this;
    }

    /** A pre-rendered JSON value (the EMF directive). */
    JsonLine raw(String name, String json) {
        if (sb.length() > 1) sb.append(',');
        string(name);
        sb.append(':').append(json);
        return this;
    }

    private void value(Object v) {
        if (v == null) sb.append("null");
        else if (v instanceof Number n && Double.isFinite(n.doubleValue())) sb.append(n);
        else if (v instanceof Boolean b) sb.append(b);
        else if (v instanceof Collection<?> c) {
            sb.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) sb.append(',');
                first = false;
                value(o);
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                string(String.valueOf(e.getKey()));
                sb.append(':');
                value(e.getValue());
            }
            sb.append('}');
        } else string(String.valueOf(v));
    }

    static String quote(String s) {
        JsonLine l = new JsonLine();
        l.sb.setLength(0);
        l.string(s);
        return l.sb.toString();
    }

    private void string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb + "}";
    }
}
