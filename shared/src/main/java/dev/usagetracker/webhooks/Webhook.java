package dev.usagetracker.webhooks;

import java.time.Instant;
import java.util.List;

/**
 * A client's webhook as stored: the receiver, the events it wants, its scope ({@code own}, or {@code all}
 * for an admin: every client's events), the signing secret encrypted under the client's id, and the
 * outcome of the last delivery. {@code disabledReason} non-null: deliveries stop (a receiver answered 410).
 */
public record Webhook(String clientId, String url, List<String> events, String scope, Instant createdAt,
                      byte[] secretCiphertext, Instant lastDeliveryAt, String lastDeliveryStatus, String disabledReason) {
    public static final String SCOPE_OWN = "own";
    public static final String SCOPE_ALL = "all";

    public boolean wants(String eventType) {
        return events.contains(eventType);
    }

    public boolean disabled() {
        return disabledReason != null;
    }
}
