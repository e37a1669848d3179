package dev.usagetracker.forwarder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which JSON keys of an access-log line hold each field of a hit. The default reads the formats
 * docs/forwarder.md gives to paste into an HTTP API's or a REST API's access logging; {@code FIELD_MAP}
 * (e.g. {@code ip=remote_addr,method=request_method,path=request_uri,status=status,duration_s=request_time,time=msec})
 * reads any flat or nested JSON access log instead (nginx {@code escape=json}, Envoy). A dotted key reaches into
 * nested objects.
 *
 * @param durationScale what one unit of the duration field is in milliseconds (1 for ms, 1000 for seconds)
 */
public record FieldMapping(List<String> ip, List<String> method, List<String> route, List<String> path,
                           List<String> status, List<String> duration, double durationScale, List<String> time) {

    /** The API Gateway formats of docs/forwarder.md: HTTP API (routeKey) and REST API (resourcePath) alike. */
    public static final FieldMapping API_GATEWAY = new FieldMapping(
            List.of("ip", "sourceIp"), List.of("httpMethod", "method"), List.of("routeKey", "resourcePath"),
            List.of("path"), List.of("status"), List.of("responseLatency", "latency"), 1,
            List.of("requestTimeEpoch", "requestTime"));

    /** Parses {@code FIELD_MAP}; a blank value keeps the API Gateway default. */
    public static FieldMapping parse(String spec) {
        if (spec == null || spec.isBlank()) return API_GATEWAY;
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : spec.split(",")) {
            String p = pair.strip();
            if (p.isEmpty()) continue;
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw new IllegalArgumentException("FIELD_MAP: '" + p + "' is not field=key");
            }
            String field = p.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            if (!List.of("ip", "method", "route", "path", "status", "duration_ms", "duration_s", "time").contains(field)) {
                throw new IllegalArgumentException("FIELD_MAP: unknown field '" + field
                        + "' (ip, method, route, path, status, duration_ms, duration_s, time)");
            }
            if (fields.put(field, p.substring(eq + 1).strip()) != null) {
                throw new IllegalArgumentException("FIELD_MAP: '" + field + "' is given twice");
            }
        }
        if (!fields.containsKey("ip") || !(fields.containsKey("route") || fields.containsKey("path"))) {
            throw new IllegalArgumentException("FIELD_MAP must name ip and route or path");
        }
        if (fields.containsKey("duration_ms") && fields.containsKey("duration_s")) {
            throw new IllegalArgumentException("FIELD_MAP: give duration_ms or duration_s, not both");
        }
        boolean seconds = fields.containsKey("duration_s");
        return new FieldMapping(keys(fields.get("ip")), keys(fields.get("method")), keys(fields.get("route")),
                keys(fields.get("path")), keys(fields.get("status")),
                keys(seconds ? fields.get("duration_s") : fields.get("duration_ms")), seconds ? 1000 : 1,
                keys(fields.get("time")));
    }

    private static List<String> keys(String key) {
        List<String> keys = new ArrayList<>();
        if (key != null) keys.add(key);
        return List.copyOf(keys);
    }
}
