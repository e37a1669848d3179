package dev.usagetracker.analytics;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The route template an endpoint is counted under (DESIGN.md §2a): query string and fragment dropped,
 * and every path segment that is a number, a UUID or an id-like token replaced by {@code {id}}, so that
 * {@code /api/users/123/orders?x=1} and {@code /api/users/456/orders} are one row. The raw hit keeps the
 * endpoint as it was sent; only the analytics read side uses templates. A segment that is a route
 * parameter in a framework's syntax becomes {@code {name}} first (DESIGN.md §2b), so one route reported
 * by Express ({@code :id}), Spring ({@code {id}}) and Flask ({@code <int:id>}) is one row.
 */
public final class EndpointTemplate {
    public static final String ID = "{id}";
    private static final Pattern NUMBER = Pattern.compile("[0-9]+");
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    /** Hex digests, ObjectIds, ULIDs-in-hex: 16+ hex characters. */
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{16,}");
    /** Base64url tokens (KSUIDs, nanoids, short ids) of 16+ characters; a digit tells them from words. */
    private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]{16,}");
    private static final Pattern DIGIT = Pattern.compile(".*[0-9].*");
    private static final Pattern EXPRESS = Pattern.compile(":([A-Za-z_$][A-Za-z0-9_$]*)(?:\\(.*\\))?[?*+]?");
    private static final Pattern BRACES = Pattern.compile("\\{\\*?([A-Za-z_][A-Za-z0-9_.-]*)(?::.*)?}");
    private static final Pattern ANGLES = Pattern.compile("<(?:[A-Za-z_][A-Za-z0-9_]*:)?([A-Za-z_][A-Za-z0-9_]*)>");

    private EndpointTemplate() {}

    public static String of(String endpoint) {
        String path = endpoint;
        int cut = firstOf(path, '?', '#');
        if (cut >= 0) path = path.substring(0, cut);
        if (path.isEmpty()) return "/";
        StringBuilder out = new StringBuilder(path.length());
        int start = 0;
        while (start <= path.length()) {
            int slash = path.indexOf('/', start);
            int end = slash < 0 ? path.length() : slash;
            String segment = path.substring(start, end);
            String parameter = parameterName(segment);
            out.append(parameter != null ? "{" + parameter + "}" : isId(segment) ? ID : segment);
            if (slash < 0) break;
            out.append('/');
            start = slash + 1;
        }
        return out.toString();
    }

    /**
     * The name of a route parameter written in a framework's syntax (DESIGN.md §2b), or null: Express
     * {@code :id}, {@code :id(\\d+)}, {@code :id?}; Spring and JAX-RS {@code {id}}, {@code {id:[0-9]+}},
     * {@code {*rest}}; Flask and Django {@code <id>}, {@code <int:id>}. Whole segments only.
     */
    static String parameterName(String segment) {
        Matcher m = EXPRESS.matcher(segment);
        if (m.matches()) return m.group(1);
        m = BRACES.matcher(segment);
        if (m.matches()) return m.group(1);
        m = ANGLES.matcher(segment);
        return m.matches() ? m.group(1) : null;
    }

    static boolean isId(String segment) {
        if (segment.isEmpty()) return false;
        if (NUMBER.matcher(segment).matches() || UUID.matcher(segment).matches()) return true;
        if (segment.length() < 16) return false;
        if (HEX.matcher(segment).matches()) return DIGIT.matcher(segment).matches();
        return BASE64URL.matcher(segment).matches() && DIGIT.matcher(segment).matches();
    }

    private static int firstOf(String s, char a, char b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b);
        if (i < 0) return j;
        if (j < 0) return i;
        return Math.min(i, j);
    }
}
