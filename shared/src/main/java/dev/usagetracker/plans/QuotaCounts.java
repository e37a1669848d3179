package dev.usagetracker.plans;

import java.util.Locale;

/**
 * Which hits a plan's monthly quota counts (DESIGN.md §2b): every hit, or every hit but those whose
 * status is 5xx, so a provider meters only the calls its service answered. A hit with an unknown status
 * counts. {@code /api/usage/daily} counts every hit either way.
 */
public enum QuotaCounts {
    ALL("all"),
    NON_5XX("non_5xx");

    private final String wireName;

    QuotaCounts(String wireName) {
        this.wireName = wireName;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String wireName() {
        return wireName;
    }

    public boolean excludesServerErrors() {
        return this == NON_5XX;
    }

    public static QuotaCounts parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (QuotaCounts q : values()) if (q.wireName.equals(v)) return q;
        throw new IllegalArgumentException("must be all or non_5xx");
    }
}
