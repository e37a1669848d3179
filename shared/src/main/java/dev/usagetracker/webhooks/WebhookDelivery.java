package dev.usagetracker.webhooks;

import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook queue's consumer (WebhookDeliveryFunction). An {@code event} message fans out into one
 * {@code attempt} message per recipient webhook (the client's own, and every admin webhook of scope
 * {@code all} for usage events), so each recipient is retried on its own. An {@code attempt} signs the body
 * (Standard Webhooks: {@code webhook-id} = the event id on every attempt, {@code webhook-timestamp} of this
 * attempt, {@code webhook-signature: v1,…}), checks the URL again (SSRF), and posts it: a 2xx is delivered,
 * a 410 disables the webhook, anything else (another status, a timeout, a refused address) is retried after
 * the next delay of the {@link RetrySchedule}, and after the last one goes to the dead-letter queue. An
 * attempt not yet due (delays beyond SQS's 15-minute maximum) is put back with the remaining delay.
 */
public final class WebhookDelivery {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDelivery.class);

    private final WebhookStore store;
    private final FieldCipher cipher;
    private final WebhookUrlPolicy policy;
    private final WebhookSender sender;
    private final WebhookQueue queue;
    private final RetrySchedule schedule;
    private final Clock clock;

    public WebhookDelivery(WebhookStore store, FieldCipher cipher, WebhookUrlPolicy policy, WebhookSender sender,
                           WebhookQueue queue, RetrySchedule schedule, Clock clock) {
        this.store = store;
        this.cipher = cipher;
        this.policy = policy;
        this.sender = sender;
        this.queue = queue;
        this.schedule = schedule;
        this.clock = clock;
    }

    public record Received(String messageId, String body) {}

    /** Returns the ids of messages to receive again (unreadable, or a store/queue call failed). */
    public Set<String> process(List<Received> messages) {
        Set<String> failed = new LinkedHashSet<>();
        // Attempts wait on receivers (up to the timeout each): run them side by side.
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Map<String, Future<Boolean>> results = new LinkedHashMap<>();
            for (Received m : messages) results.put(m.messageId(), pool.submit(() -> handle(m)));
            results.forEach((id, f) -> {
                try {
                    if (!f.get()) failed.add(id);
                } catch (Exception e) {
                    failed.add(id);
                }
            });
        }
        return failed;
    }

    private boolean handle(Received received) {
        WebhookMessage m;
        try {
            m = Json.read(received.body().getBytes(StandardCharsets.UTF_8), WebhookMessage.class);
            if (m.id() == null || m.body() == null || m.kind() == null) throw new IllegalArgumentException("incomplete");
        } catch (IllegalArgumentException e) {
            LOG.atError().addKeyValue("message_id", received.messageId())
                    .log("unreadable webhook message; leaving it for redrive to the dead-letter queue");
            return false;
        }
        try {
            switch (m.kind()) {
                case WebhookMessage.EVENT -> fanOut(m);
                case WebhookMessage.ATTEMPT -> attempt(m);
                default -> {
                    LOG.atError().addKeyValue("message_id", received.messageId()).log("unknown webhook message kind");
                    return false;
                }
            }
            return true;
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("event_id", m.id()).addKeyValue("error", e.getClass().getSimpleName())
                    .log("webhook message failed; SQS delivers it again");
            return false;
        }
    }

    private void fanOut(WebhookMessage event) {
        Set<String> recipients = new LinkedHashSet<>();
        if (event.only() != null) {
            recipients.add(event.only());
        } else {
            recipients.add(event.clientId());
            recipients.addAll(store.scopeAll());
        }
        List<WebhookMessage> attempts = new ArrayList<>();
        long now = clock.millis();
        for (String recipient : recipients) {
            var webhook = store.find(recipient);
            boolean own = recipient.equals(event.clientId());
            if (webhook.isEmpty()) {
                if (!own) store.forgetScopeAll(recipient);
                continue;
            }
            Webhook w = webhook.get();
            if (w.disabled()) continue;
            if (event.only() == null && !w.wants(event.type())) continue;
            if (!own && !Webhook.SCOPE_ALL.equals(w.scope())) continue;
            attempts.add(event.attempt(recipient, 1, now));
        }
        if (!attempts.isEmpty()) queue.send(attempts, Duration.ZERO);
        LOG.atInfo().addKeyValue("event_id", event.id()).addKeyValue("type", event.type())
                .addKeyValue("recipients", attempts.size()).log("webhook event fanned out");
    }

    private void attempt(WebhookMessage m) {
        long now = clock.millis();
        if (m.dueAt() != null && m.dueAt() - now > 1_000) {
            Duration left = Duration.ofMillis(m.dueAt() - now);
            queue.send(List.of(m), left.compareTo(WebhookQueue.MAX_DELAY) > 0 ? WebhookQueue.MAX_DELAY : left);
            return;
        }
        var found = store.find(m.recipient());
        if (found.isEmpty() || found.get().disabled()) {
            LOG.atInfo().addKeyValue("event_id", m.id()).addKeyValue("recipient", m.recipient()).addKeyValue("attempt", m.attempt())
                    .log(found.isEmpty() ? "webhook gone; attempt dropped" : "webhook disabled; attempt dropped");
            return;
        }
        Webhook w = found.get();
        Instant at = clock.instant();
        WebhookSender.Outcome outcome = send(w, m, at);
        LOG.atInfo().addKeyValue("event_id", m.id()).addKeyValue("type", m.type()).addKeyValue("recipient", m.recipient())
                .addKeyValue("attempt", m.attempt()).addKeyValue("status", outcome.label())
                .addKeyValue("duration_ms", outcome.millis()).log("webhook delivery attempt");
        try {
            store.recordDelivery(w.clientId(), w.createdAt(), at, outcome.label());
        } catch (RuntimeException e) {
            LOG.warn("could not record a webhook delivery outcome ({})", e.getClass().getSimpleName());
        }
        if (outcome.delivered()) return;
        if (outcome.status() == 410) {
            store.disable(w.clientId(), w.createdAt(), "the receiver answered 410 Gone at " + at);
            LOG.atWarn().addKeyValue("recipient", m.recipient()).addKeyValue("event_id", m.id())
                    .log("webhook disabled: the receiver answered 410 Gone");
            return;
        }
        Duration delay = schedule.after(m.attempt());
        if (delay == null) {
            queue.deadLetter(m);
            LOG.atWarn().addKeyValue("event_id", m.id()).addKeyValue("recipient", m.recipient()).addKeyValue("attempt", m.attempt())
                    .log("webhook retries used up; attempt moved to the dead-letter queue");
            return;
        }
        queue.send(List.of(m.attempt(m.recipient(), m.attempt() + 1, now + delay.toMillis())),
                delay.compareTo(WebhookQueue.MAX_DELAY) > 0 ? WebhookQueue.MAX_DELAY : delay);
    }

    private WebhookSender.Outcome send(Webhook w, WebhookMessage m, Instant at) {
        WebhookUrlPolicy.Target target;
        try {
            target = policy.check(w.url());
        } catch (WebhookUrlPolicy.Refused e) {
            return new WebhookSender.Outcome(0, "refused_address", 0);
        }
        String secret = new String(cipher.decrypt(w.secretCiphertext(), w.clientId()), StandardCharsets.UTF_8);
        long timestamp = at.getEpochSecond();
        String signature;
        try {
            signature = new com.standardwebhooks.Webhook(secret).sign(m.id(), timestamp, m.body());
        } catch (com.standardwebhooks.exceptions.WebhookSigningException e) {
            throw new IllegalStateException("webhook signing failed", e);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("webhook-id", m.id());
        headers.put("webhook-timestamp", Long.toString(timestamp));
        headers.put("webhook-signature", signature);
        return sender.post(target, headers, m.body().getBytes(StandardCharsets.UTF_8));
    }
}
