package dev.usagetracker.plans;

import java.util.Locale;

/** What happens to hits over a plan's monthly quota. */
public enum Enforcement {
    /** Counted like any other; the quota is for reporting and alerts (the default). */
    REPORT("report"),
    /** Ingest answers 429 {@code quota-exceeded} until the month ends (UTC). */
    REFUSE("refuse");

    private final String wireName;

    Enforcement(String wireName) {
        this.wireName = wireName;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String wireName() {
        return wireName;
    }

    public static Enforcement parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (Enforcement e : values()) if (e.wireName.equals(v)) return e;
        throw new IllegalArgumentException("must be report or refuse");
    }
}
