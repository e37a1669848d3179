package dev.usagetracker.analytics;

import java.util.List;

/**
 * RFC 4180 text: CRLF line ends, and a field holding a comma, a double quote, CR or LF is enclosed in
 * double quotes with each inner quote doubled. Every other field is written as it is.
 */
public final class CsvWriter {
    private final StringBuilder out = new StringBuilder();

    public CsvWriter row(List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) out.append(',');
            out.append(field(fields.get(i)));
        }
        out.append("\r\n");
        return this;
    }

    public static String field(String value) {
        if (value == null) return "";
        boolean quote = value.indexOf(',') >= 0 || value.indexOf('"') >= 0 || value.indexOf('\r') >= 0
                || value.indexOf('\n') >= 0;
        return quote ? '"' + value.replace("\"", "\"\"") + '"' : value;
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
