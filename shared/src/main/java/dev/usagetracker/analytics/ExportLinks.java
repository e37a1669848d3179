package dev.usagetracker.analytics;

import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.http.HttpRequest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** The export's response headers: a file name to save under, and the RFC 8288 link to the next page. */
public final class ExportLinks {
    private ExportLinks() {}

    public static Map<String, String> headers(HttpRequest request, CachedAnalytics.Export export, ExportFormat format) {
        Map<String, String> headers = new LinkedHashMap<>(export.headers());
        ExportQuery q = export.query();
        String name = "usage-" + q.clientId().orElse("all") + "-" + q.granularity().wire() + "-"
                + q.from().replace(":", "") + "-" + q.to().replace(":", "") + (format == ExportFormat.CSV ? ".csv" : ".ndjson");
        headers.put("Content-Disposition", "attachment; filename=\"" + name + "\"");
        headers.put("Vary", "Accept");
        export.nextCursor().ifPresent(cursor -> headers.put("Link", "<" + next(request, cursor) + ">; rel=\"next\""));
        return headers;
    }

    /** The same request with the next cursor; parameters in a stable order, each percent-encoded. */
    static String next(HttpRequest request, String cursor) {
        Map<String, String> params = new TreeMap<>(request.query());
        params.put("cursor", cursor);
        StringBuilder uri = new StringBuilder(request.path() == null ? "/api/usage/export" : request.path()).append('?');
        params.forEach((k, v) -> uri.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)).append('&'));
        uri.setLength(uri.length() - 1);
        return uri.toString();
    }
}
