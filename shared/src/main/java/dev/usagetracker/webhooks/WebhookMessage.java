package dev.usagetracker.webhooks;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What travels on the webhook queue. {@code kind = event}: an event to fan out to its recipients
 * ({@code only}: just that client's webhook, as for {@code webhook.test}). {@code kind = attempt}: one
 * delivery of one event to one recipient's webhook, the {@code attempt}-th, not before {@code due_at}
 * (epoch millis). {@code id} is the Standard Webhooks {@code webhook-id}, the same on every attempt;
 * {@code body} the exact JSON that is signed and sent.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WebhookMessage(String kind, String id, String type, String clientId, String body, String only,
                             String recipient, Integer attempt, Long dueAt) {
    public static final String EVENT = "event";
    public static final String ATTEMPT = "attempt";

    public static WebhookMessage event(String id, String type, String clientId, String body, String only) {
        return new WebhookMessage(EVENT, id, type, clientId, body, only, null, null, null);
    }

    public WebhookMessage attempt(String recipient, int attempt, long dueAt) {
        return new WebhookMessage(ATTEMPT, id, type, clientId, body, null, recipient, attempt, dueAt);
    }
}
