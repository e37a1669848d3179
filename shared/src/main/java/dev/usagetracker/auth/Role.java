package dev.usagetracker.auth;

import java.util.Locale;

/** A client reads its own usage; an admin reads every client's and the ranking. */
public enum Role {
    CLIENT, ADMIN;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role fromWire(String value) {
        return value != null && value.equalsIgnoreCase("admin") ? ADMIN : CLIENT;
    }
}
