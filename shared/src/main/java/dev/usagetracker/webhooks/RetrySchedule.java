package dev.usagetracker.webhooks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The delays between delivery attempts: {@code WEBHOOK_RETRY_SCHEDULE}, default {@code 5s,5m,30m,2h,5h,10h}
 * (the first attempt is immediate, so seven attempts over about 17.5 hours); after the last the attempt
 * goes to the dead-letter queue. Units {@code ms}, {@code s}, {@code m}, {@code h}.
 */
public record RetrySchedule(List<Duration> delays) {
    public static final String DEFAULT = "5s,5m,30m,2h,5h,10h";

    public static RetrySchedule parse(String spec) {
        List<Duration> delays = new ArrayList<>();
        for (String part : (spec == null || spec.isBlank() ? DEFAULT : spec).split(",")) {
            String p = part.trim();
            if (p.isEmpty()) continue;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(p);
            if (!m.matches()) throw new IllegalArgumentException("WEBHOOK_RETRY_SCHEDULE: not a delay: " + p);
            long n = Long.parseLong(m.group(1));
            delays.add(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
        }
        return new RetrySchedule(List.copyOf(delays));
    }

    /** The delay before attempt {@code attempt + 1}, or null when {@code attempt} was the last. */
    public Duration after(int attempt) {
        return attempt >= 1 && attempt <= delays.size() ? delays.get(attempt - 1) : null;
    }

    public int attempts() {
        return delays.size() + 1;
    }
}
