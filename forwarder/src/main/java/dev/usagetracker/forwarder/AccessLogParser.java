package dev.usagetracker.forwarder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;

/**
 * Turns one access-log line into a hit, or says why it cannot. A line that does not parse never fails the
 * batch: the forwarder counts it and logs its event id and the reason, never the line (it may hold
 * addresses and paths the user did not mean to log twice).
 */
public final class AccessLogParser {
    /** A parse: the hit, or the reason it was refused (exactly one is set). */
    public record Result(ForwardedHit hit, String refusal) {
        static Result refused(String why) { return new Result(null, why); }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    // API Gateway's $context.requestTime: Common Log Format.
    private static final DateTimeFormatter CLF = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);
    private static final double MAX_DURATION_MS = 3_600_000;

    private final FieldMapping mapping;

    public AccessLogParser(FieldMapping mapping) {
        this.mapping = mapping;
    }

    /** @param logTimestamp the log event's own time, used when the line carries none */
    public Result parse(String line, long logTimestamp) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            return Result.refused("not JSON");
        }
        if (root == null || !root.isObject()) return Result.refused("not a JSON object");

        String ip = text(root, mapping.ip());
        if (ip == null) return Result.refused("no client address");

        String method = token(text(root, mapping.method()));
        String template = null;
        String route = text(root, mapping.route());
        if (route != null && !route.equals("$default")) {
            int space = route.indexOf(' ');
            if (space > 0 && route.startsWith("/", space + 1)) {  // an HTTP API route key: "GET /items/{id}"
                if (method == null) method = token(route.substring(0, space));
                route = route.substring(space + 1);
            }
            // A greedy parameter ({proxy+}) would fold every path into one row: the path says more.
            if (route.startsWith("/") && !route.contains("+}")) template = route;
        }
        String endpoint = template != null ? template : withoutQuery(text(root, mapping.path()));
        if (endpoint == null || endpoint.isEmpty()) return Result.refused("no route or path");

        return new Result(new ForwardedHit(ip, endpoint, time(text(root, mapping.time()), logTimestamp), method,
                status(text(root, mapping.status())), duration(text(root, mapping.duration()))), null);
    }

    /** The first of the keys present with a value; API Gateway writes "-" for a variable with none. */
    private static String text(JsonNode root, List<String> keys) {
        for (String key : keys) {
            JsonNode node = root.get(key);
            if (node == null && key.indexOf('.') > 0) node = root.at("/" + key.replace(".", "/"));
            if (node == null || node.isMissingNode() || node.isNull() || node.isContainerNode()) continue;
            String value = node.asText().strip();
            if (!value.isEmpty() && !value.equals("-")) return value;
        }
        return null;
    }

    private static String withoutQuery(String path) {
        if (path == null) return null;
        int q = path.indexOf('?');
        return q >= 0 ? path.substring(0, q) : path;
    }

    // What the service accepts (DESIGN §2b); anything else is left out of the hit, never sent to be refused.
    private static String token(String method) {
        if (method == null || method.length() > 16 || method.equals("ANY")) return null;
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && "!#$%&'*+-.^_`|~".indexOf(c) < 0) return null;
        }
        return method.toUpperCase(Locale.ROOT);
    }

    private static Integer status(String value) {
        if (value == null) return null;
        try {
            int status = Integer.parseInt(value);
            return status >= 100 && status <= 599 ? status : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private Double duration(String value) {
        if (value == null) return null;
        try {
            double ms = Double.parseDouble(value) * mapping.durationScale();
            return Double.isFinite(ms) && ms >= 0 && ms <= MAX_DURATION_MS ? ms : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Epoch milliseconds, epoch seconds (nginx $msec), ISO-8601 or Common Log Format; else the log event's time. */
    private static Instant time(String value, long logTimestamp) {
        if (value != null) {
            try {
                double n = Double.parseDouble(value);
                if (Double.isFinite(n) && n > 0) {
                    return n > 100_000_000_000d ? Instant.ofEpochMilli((long) n) : Instant.ofEpochMilli(Math.round(n * 1000));
                }
            } catch (NumberFormatException notANumber) {
                try {
                    return OffsetDateTime.parse(value).toInstant();
                } catch (DateTimeParseException notIso) {
                    try {
                        return OffsetDateTime.parse(value, CLF).toInstant();
                    } catch (DateTimeParseException notClf) {
                        // fall through to the log event's time
                    }
                }
            }
        }
        return Instant.ofEpochMilli(logTimestamp);
    }
}
