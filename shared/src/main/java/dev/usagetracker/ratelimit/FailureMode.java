package dev.usagetracker.ratelimit;

import java.util.Locale;

/** What the limiter does while Redis cannot answer ({@code RATE_LIMIT_MODE}). */
public enum FailureMode {
    /** Each container limits on its own with its share of the quota: approximate, but never unlimited. */
    LOCAL("local"),
    /** Every request is allowed: availability over protection. */
    FAIL_OPEN("fail-open"),
    /** Every limited request is refused with 503: protection over availability. */
    FAIL_CLOSED("fail-closed");

    private final String wireName;

    FailureMode(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static FailureMode parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (FailureMode m : values()) if (m.wireName.equals(v)) return m;
        throw new IllegalArgumentException("RATE_LIMIT_MODE must be local, fail-open or fail-closed, not '" + value + "'");
    }
}
