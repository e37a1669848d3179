package dev.usagetracker.webhooks;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code /api/clients/me/webhook}: a client's one webhook. Saving it checks the URL against the SSRF
 * policy (DNS included) and returns a new signing secret, shown once and stored encrypted with the
 * client's id as AAD; reading it never returns the secret. The test route queues a {@code webhook.test}
 * event; delivery happens in the delivery function, never on this request's path.
 */
public final class WebhookService {
    public static final String USAGE_THRESHOLD = "usage.threshold";
    public static final String WEBHOOK_TEST = "webhook.test";
    public static final Set<String> SUBSCRIBABLE = Set.of(USAGE_THRESHOLD);
    static final String SECRET_PREFIX = "whsec_";
    private static final int SECRET_BYTES = 32;

    private final WebhookStore store;
    private final FieldCipher cipher;
    private final WebhookUrlPolicy policy;
    private final WebhookQueue queue;
    private final Clock clock;
    private final SecureRandom random = dev.usagetracker.config.Entropy.random();

    public WebhookService(WebhookStore store, FieldCipher cipher, WebhookUrlPolicy policy, WebhookQueue queue, Clock clock) {
        this.store = store;
        this.cipher = cipher;
        this.policy = policy;
        this.queue = queue;
        this.clock = clock;
    }

    /** {@code PUT} body. */
    public record WebhookRequest(String url, List<String> events, String scope) {}

    public record LastDelivery(String at, String status) {}

    public record TestQueued(String webhookId) {}

    public Map<String, Object> put(Principal caller, WebhookRequest request) {
        if (request == null) throw ApiException.badRequest("The request body must be a JSON object.");
        List<FieldError> errors = new ArrayList<>();
        String scope = request.scope() == null ? Webhook.SCOPE_OWN : request.scope();
        if (!scope.equals(Webhook.SCOPE_OWN) && !scope.equals(Webhook.SCOPE_ALL)) {
            errors.add(new FieldError("scope", "must be \"own\" or \"all\""));
        }
        List<String> events = request.events();
        if (events == null || events.isEmpty()) {
            errors.add(new FieldError("events", "must list at least one event type: " + SUBSCRIBABLE));
        } else {
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i) == null || !SUBSCRIBABLE.contains(events.get(i))) {
                    errors.add(new FieldError("events[" + i + "]", "must be one of " + SUBSCRIBABLE));
                }
            }
        }
        try {
            policy.parse(request.url());
        } catch (WebhookUrlPolicy.Refused e) {
            errors.add(new FieldError("url", e.getMessage()));
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        if (scope.equals(Webhook.SCOPE_ALL) && !caller.isAdmin()) {
            throw ApiException.forbidden("Only an admin may receive every client's events (scope \"all\").");
        }
        try {
            policy.check(request.url());
        } catch (WebhookUrlPolicy.Refused e) {
            throw ApiException.validation(List.of(new FieldError("url", e.getMessage())));
        }
        byte[] raw = new byte[SECRET_BYTES];
        random.nextBytes(raw);
        String secret = SECRET_PREFIX + Base64.getEncoder().encodeToString(raw);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        List<String> distinct = List.copyOf(new java.util.LinkedHashSet<>(events));
        store.put(new Webhook(caller.clientId(), request.url(), distinct, scope, now,
                cipher.encrypt(secret.getBytes(StandardCharsets.UTF_8), caller.clientId()), null, null, null));
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("url", request.url());
        view.put("events", distinct);
        view.put("scope", scope);
        view.put("secret", secret);
        view.put("created_at", now.toString());
        return view;
    }

    public Map<String, Object> get(Principal caller) {
        Webhook w = store.find(caller.clientId()).orElseThrow(() -> ApiException.notFound("This client has no webhook."));
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("url", w.url());
        view.put("events", w.events());
        view.put("scope", w.scope());
        view.put("created_at", w.createdAt().toString());
        view.put("last_delivery", w.lastDeliveryAt() == null ? null
                : new LastDelivery(w.lastDeliveryAt().toString(), w.lastDeliveryStatus()));
        view.put("disabled_reason", w.disabledReason());
        return view;
    }

    public void delete(Principal caller) {
        if (!store.delete(caller.clientId())) throw ApiException.notFound("This client has no webhook.");
    }

    /** Queues a {@code webhook.test} event for the caller's webhook only; its id is the {@code webhook-id}. */
    public TestQueued test(Principal caller) {
        Webhook w = store.find(caller.clientId()).orElseThrow(() -> ApiException.notFound("This client has no webhook."));
        if (w.disabled()) {
            throw new ApiException(409, "webhook-disabled", "Webhook disabled",
                    "This webhook is disabled (" + w.disabledReason() + "); save it again with PUT to re-enable it.",
                    List.of(), Map.of());
        }
        String id = WebhookIds.random(random);
        Instant now = clock.instant();
        String body = new String(Json.write(Map.of("type", WEBHOOK_TEST, "timestamp", now.toString(),
                "data", Map.of("client_id", caller.clientId(), "webhook_id", id))), StandardCharsets.UTF_8);
        queue.send(List.of(WebhookMessage.event(id, WEBHOOK_TEST, caller.clientId(), body, caller.clientId())), Duration.ZERO);
        return new TestQueued(id);
    }
}
