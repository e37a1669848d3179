package dev.usagetracker.analytics;

import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The export's two representations and the choice between them by {@code Accept} (RFC 9110 §12.5.1). */
public enum ExportFormat {
    CSV("text/csv"), NDJSON("application/x-ndjson");

    private final String mediaType;

    ExportFormat(String mediaType) {
        this.mediaType = mediaType;
    }

    public String contentType() {
        return this == CSV ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson; charset=utf-8";
    }

    /** CSV unless the client prefers NDJSON; 406 when it accepts neither. */
    public static ExportFormat negotiate(String accept) {
        if (accept == null || accept.isBlank()) return CSV;
        double csv = 0;
        double ndjson = 0;
        for (String range : accept.split(",")) {
            String[] parts = range.trim().split(";");
            String type = parts[0].trim().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].trim();
                if (p.startsWith("q=")) {
                    try {
                        q = Double.parseDouble(p.substring(2));
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            switch (type) {
                case "text/csv" -> csv = Math.max(csv, q);
                case "application/x-ndjson" -> ndjson = Math.max(ndjson, q);
                case "text/*" -> csv = Math.max(csv, q * 0.99);
                case "application/*" -> ndjson = Math.max(ndjson, q * 0.99);
                case "*/*" -> {
                    csv = Math.max(csv, q * 0.999);
                    ndjson = Math.max(ndjson, q * 0.98);
                }
                default -> { }
            }
        }
        if (csv <= 0 && ndjson <= 0) {
            throw new ApiException(406, "not-acceptable", "Not acceptable",
                    "The export is served as text/csv or application/x-ndjson.", List.of(), Map.of());
        }
        return ndjson > csv ? NDJSON : CSV;
    }

    public String render(ExportPage page) {
        String column = "hour".equals(page.granularity()) ? "hour" : "date";
        if (this == CSV) {
            CsvWriter csv = new CsvWriter().row(List.of("client_id", column, "count"));
            page.rows().forEach(r -> csv.row(List.of(r.clientId(), r.period(), Long.toString(r.count()))));
            return csv.toString();
        }
        StringBuilder out = new StringBuilder();
        for (ExportPage.Row r : page.rows()) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("client_id", r.clientId());
            line.put(column, r.period());
            line.put("count", r.count());
            out.append(new String(Json.write(line), StandardCharsets.UTF_8)).append('\n');
        }
        return out.toString();
    }

    public String mediaType() {
        return mediaType;
    }
}
