package dev.usagetracker.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The IETF draft's {@code RateLimit-Policy} and {@code RateLimit} fields (draft-ietf-httpapi-ratelimit-headers,
 * structured-field lists): {@code RateLimit-Policy: "ingest-1m";q=500;w=60,"ingest-1h";q=1000;w=3600} and
 * {@code RateLimit: "ingest-1m";r=499;t=60,"ingest-1h";r=999;t=3600}.
 */
public final class RateLimitHeaders {
    public static final String POLICY = "RateLimit-Policy";
    public static final String STATE = "RateLimit";

    /** A quota policy: {@code q} units per {@code w} seconds. */
    public record Policy(String name, long quota, long windowSeconds) {}

    /** The service limit after a request: {@code r} units left, none returning for {@code t} seconds. */
    public record State(String name, long remaining, long resetSeconds) {}

    private RateLimitHeaders() {}

    /** Both fields; {@code RateLimit} is left out when the state is unknown (the limiter could not tell). */
    public static Map<String, String> of(List<Policy> policies, List<State> states) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (policies.isEmpty()) return headers;
        headers.put(POLICY, policies.stream()
                .map(p -> quoted(p.name()) + ";q=" + p.quota() + ";w=" + p.windowSeconds())
                .collect(Collectors.joining(",")));
        if (!states.isEmpty()) {
            headers.put(STATE, states.stream()
                    .map(s -> quoted(s.name()) + ";r=" + Math.max(0, s.remaining()) + ";t=" + Math.max(0, s.resetSeconds()))
                    .collect(Collectors.joining(",")));
        }
        return headers;
    }

    /** Whole seconds for {@code t} and {@code Retry-After}: rounded up, so a client never comes back early. */
    public static long seconds(long millis) {
        return millis <= 0 ? 0 : (millis + 999) / 1000;
    }

    private static String quoted(String name) {
        // sf-string: printable ASCII with '"' and '\' escaped; our names are [a-z0-9-] anyway
        return '"' + name.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
