package dev.usagetracker.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.http.ApiException.FieldError;
import java.util.List;
import java.util.Locale;

/**
 * What happened to a request, as far as its reporter knew (DESIGN.md §2b): the HTTP method, the
 * response status and the duration. Each is optional (absent or null = unknown); anything else is a
 * field error, never a guess: {@code "200"} is not a status, {@code 200.5} is not one either.
 */
public record HitOutcome(String method, Integer status, Double durationMs) {
    public static final int MAX_METHOD_LENGTH = 16;
    public static final int MIN_STATUS = 100;
    public static final int MAX_STATUS = 599;
    public static final double MAX_DURATION_MS = 3_600_000;
    static final HitOutcome UNKNOWN = new HitOutcome(null, null, null);

    /** Reads the three fields of {@code f}, adding an error per broken field under {@code at} (e.g. "hits[3]."). */
    static HitOutcome of(HitFields f, String at, List<FieldError> errors) {
        if (absent(f.method()) && absent(f.status()) && absent(f.durationMs())) return UNKNOWN;
        return new HitOutcome(method(f.method(), at, errors), status(f.status(), at, errors),
                duration(f.durationMs(), at, errors));
    }

    private static boolean absent(JsonNode node) {
        return node == null || node.isNull();
    }

    private static String method(JsonNode node, String at, List<FieldError> errors) {
        if (absent(node)) return null;
        String text = node.isTextual() ? node.textValue() : null;
        if (text == null || text.isEmpty() || text.length() > MAX_METHOD_LENGTH || !text.chars().allMatch(HitOutcome::isTchar)) {
            errors.add(new FieldError(at + "method", "must be an HTTP method token of 1 to " + MAX_METHOD_LENGTH
                    + " letters, digits or !#$%&'*+-.^_`|~ (e.g. GET)"));
            return null;
        }
        return text.toUpperCase(Locale.ROOT);
    }

    private static Integer status(JsonNode node, String at, List<FieldError> errors) {
        if (absent(node)) return null;
        if (!node.isNumber() || !node.canConvertToExactIntegral()
                || node.doubleValue() < MIN_STATUS || node.doubleValue() > MAX_STATUS) {
            errors.add(new FieldError(at + "status", "must be an integer from " + MIN_STATUS + " to " + MAX_STATUS));
            return null;
        }
        return node.intValue();
    }

    /** Kept to the microsecond: finer digits only make the raw item bigger. */
    private static Double duration(JsonNode node, String at, List<FieldError> errors) {
        if (absent(node)) return null;
        double ms = node.isNumber() ? node.doubleValue() : Double.NaN;
        if (!(ms >= 0 && ms <= MAX_DURATION_MS)) { // NaN fails both
            errors.add(new FieldError(at + "duration_ms", "must be a number of milliseconds from 0 to 3600000"));
            return null;
        }
        return Math.round(ms * 1000) / 1000.0;
    }

    /** The status classes analytics and quotas count, in order; a hit whose status is unknown is in none. */
    public static final List<String> STATUS_CLASSES = List.of("2xx", "3xx", "4xx", "5xx");
    /** Index of 5xx in {@link #STATUS_CLASSES}. */
    public static final int SERVER_ERROR = 3;

    /**
     * Index into {@link #STATUS_CLASSES}, or -1 for an unknown status. A 1xx final status (101 Switching
     * Protocols) counts as 2xx: the request did not fail, and the classes shown add up to the count.
     */
    public static int statusClass(Integer status) {
        if (status == null) return -1;
        return status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3;
    }

    /** RFC 9110 §5.6.2 tchar. */
    private static boolean isTchar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
}
