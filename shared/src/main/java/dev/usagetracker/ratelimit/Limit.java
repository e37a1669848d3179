package dev.usagetracker.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One quota policy: at most {@code quota} units in any sliding {@code window}. The window is counted in
 * {@link #slots()} equal slots, which is the precision of the slide (1 s for a minute, 1 min for an hour).
 *
 * @param name the policy name sent in the {@code RateLimit-Policy} and {@code RateLimit} headers, e.g. {@code ingest-1m}
 */
public record Limit(String name, long quota, Duration window) {
    private static final Pattern ONE = Pattern.compile("(\\d{1,9})\\s*/\\s*(\\d{1,6})\\s*([smhd])");
    static final Duration MAX_WINDOW = Duration.ofDays(7);

    public Limit {
        if (quota < 1) throw new IllegalArgumentException(name + ": the quota must be at least 1");
        if (window.toMillis() % 1000 != 0 || window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(MAX_WINDOW) > 0) {
            throw new IllegalArgumentException(name + ": the window must be whole seconds from 1 s to 7 d");
        }
    }

    public long windowSeconds() {
        return window.toSeconds();
    }

    public long windowMillis() {
        return window.toMillis();
    }

    /** Slots per window: 60 when the window divides evenly (1 s in a minute, 1 min in an hour), else 50. */
    public int slots() {
        return windowMillis() % 60 == 0 ? 60 : 50;
    }

    public long slotMillis() {
        return windowMillis() / slots();
    }

    /** This container's part of the quota when it must limit on its own (Redis down). */
    public Limit share(int containers) {
        return new Limit(name, Math.max(1, (quota + containers - 1) / containers), window);
    }

    /** The spec this list parses from, e.g. {@code 500/1m,1000/1h}; {@code off} for none. */
    public static String spec(String routeClass, List<Limit> limits) {
        if (limits.isEmpty()) return "off";
        return String.join(",", limits.stream().map(l -> l.quota() + "/" + l.name().substring(routeClass.length() + 1)).toList());
    }

    /**
     * Parses {@code "500/1m,1000/1h"} (units s, m, h, d); {@code "off"} means no limit. Policy names are the
     * route class and the window as written, e.g. {@code ingest-1m}.
     */
    public static List<Limit> parse(String routeClass, String spec) {
        String text = spec.trim().toLowerCase(Locale.ROOT);
        if (text.equals("off") || text.equals("none")) return List.of();
        List<Limit> limits = new ArrayList<>();
        Set<Duration> windows = new HashSet<>();
        for (String part : text.split(",")) {
            Matcher m = ONE.matcher(part.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("rate limit '" + part.trim() + "' for " + routeClass
                        + " is not <count>/<n><s|m|h|d>, e.g. 1000/1h");
            }
            long n = Long.parseLong(m.group(2));
            Duration window = switch (m.group(3)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            if (!windows.add(window)) {
                throw new IllegalArgumentException("rate limits for " + routeClass + " name the window " + window + " twice");
            }
            limits.add(new Limit(routeClass + "-" + n + m.group(3), Long.parseLong(m.group(1)), window));
        }
        limits.sort((a, b) -> a.window.compareTo(b.window));
        return List.copyOf(limits);
    }
}
