package dev.usagetracker.erasure;

import java.util.regex.Pattern;

/**
 * Whether a Redis key names a client: the client id as a whole token, i.e. not preceded or followed by
 * a character a client id may contain ({@code [a-z0-9_-]}). So erasing {@code acme} deletes
 * {@code ut:prod:count:acme:2026-11-26} and {@code ut:prod:rl:{acme}:60} but not the keys of
 * {@code acme-eu}.
 */
public final class ClientKeyMatcher {
    private final Pattern pattern;
    private final String clientId;

    public ClientKeyMatcher(String clientId) {
        this.clientId = clientId;
        this.pattern = Pattern.compile("(^|[^a-z0-9_-])" + Pattern.quote(clientId) + "($|[^a-z0-9_-])");
    }

    /** The SCAN MATCH pattern that pre-selects candidate keys (glob metacharacters escaped). */
    public String scanPattern(String keyPrefix) {
        return escape(keyPrefix) + "*" + escape(clientId) + "*";
    }

    public boolean names(String key) {
        return key.contains(clientId) && pattern.matcher(key).find();
    }

    static String escape(String glob) {
        StringBuilder out = new StringBuilder();
        for (char c : glob.toCharArray()) {
            if ("*?[]\\^".indexOf(c) >= 0) out.append('\\');
            out.append(c);
        }
        return out.toString();
    }
}
