package dev.usagetracker.forwarder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * What a CloudWatch Logs subscription hands a Lambda function: {@code awslogs.data} is base64 of a gzip of this
 * JSON. A {@code CONTROL_MESSAGE} only checks that the destination is reachable and carries no log events.
 */
public record SubscriptionPayload(String messageType, String owner, String logGroup, String logStream,
                                  List<LogEvent> logEvents) {

    /** One log event: CloudWatch's own id (unique within the log group), its ingestion-side timestamp, the line. */
    public record LogEvent(String id, long timestamp, String message) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public boolean isControlMessage() {
        return "CONTROL_MESSAGE".equals(messageType);
    }

    /** Decodes {@code awslogs.data}; a payload that is not base64-gzip-JSON is a bad delivery, not a bad line. */
    public static SubscriptionPayload decode(String base64Gzip) {
        if (base64Gzip == null || base64Gzip.isEmpty()) {
            throw new IllegalArgumentException("the event has no awslogs.data");
        }
        byte[] gz;
        try {
            gz = Base64.getDecoder().decode(base64Gzip.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("awslogs.data is not base64", e);
        }
        JsonNode root;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            root = JSON.readTree(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("awslogs.data is not gzip-compressed JSON", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("awslogs.data does not hold a JSON object");
        }
        List<LogEvent> events = new ArrayList<>();
        for (JsonNode e : root.path("logEvents")) {
            events.add(new LogEvent(e.path("id").asText(""), e.path("timestamp").asLong(0), e.path("message").asText("")));
        }
        return new SubscriptionPayload(root.path("messageType").asText(""), root.path("owner").asText(""),
                root.path("logGroup").asText(""), root.path("logStream").asText(""), List.copyOf(events));
    }

    /** The inverse of {@link #decode}, as CloudWatch Logs builds it: for fixtures, tests and the bench. */
    public String encode() {
        var root = JSON.createObjectNode();
        root.put("messageType", messageType);
        root.put("owner", owner);
        root.put("logGroup", logGroup);
        root.put("logStream", logStream);
        root.putArray("subscriptionFilters").add("usage-tracker");
        var array = root.putArray("logEvents");
        for (LogEvent e : logEvents) {
            array.addObject().put("id", e.id()).put("timestamp", e.timestamp()).put("message", e.message());
        }
        try {
            var bytes = new java.io.ByteArrayOutputStream();
            try (var gz = new java.util.zip.GZIPOutputStream(bytes)) {
                JSON.writeValue(gz, root);
            }
            return Base64.getEncoder().encodeToString(bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
