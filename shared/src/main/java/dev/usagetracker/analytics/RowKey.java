package dev.usagetracker.analytics;

/**
 * The name of a row in a day's endpoint summary: the template alone when the hit's method is unknown
 * (as every row was before hits carried a method, so those mirrors stay valid), else
 * {@code "GET /api/users/{id}"}. Templates start with '/' and hold no space, methods are tokens.
 */
public record RowKey(String method, String template) {

    public static String of(String method, String endpoint) {
        String template = EndpointTemplate.of(endpoint);
        return method == null ? template : method + " " + template;
    }

    public static RowKey parse(String row) {
        if (row.startsWith("/")) return new RowKey(null, row);
        int space = row.indexOf(' ');
        return new RowKey(row.substring(0, space), row.substring(space + 1));
    }
}
