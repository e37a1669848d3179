package dev.usagetracker.webhooks;

import java.time.Duration;
import java.util.Map;

/**
 * {@code WEBHOOK_QUEUE_URL}, {@code WEBHOOK_DLQ_URL}; {@code WEBHOOK_ALLOW_PRIVATE} (default false: https
 * and public addresses only; the local runtime sets true so tests and demos can receive on loopback);
 * {@code WEBHOOK_RETRY_SCHEDULE} (default {@value RetrySchedule#DEFAULT}); {@code WEBHOOK_TIMEOUT_MS} (5000).
 */
public record WebhookSettings(String queueUrl, String deadLetterUrl, boolean allowPrivate, RetrySchedule schedule,
                              Duration timeout) {
    public static WebhookSettings from(Map<String, String> env) {
        return new WebhookSettings(env.getOrDefault("WEBHOOK_QUEUE_URL", ""), env.getOrDefault("WEBHOOK_DLQ_URL", ""),
                Boolean.parseBoolean(env.getOrDefault("WEBHOOK_ALLOW_PRIVATE", "false").trim()),
                RetrySchedule.parse(env.get("WEBHOOK_RETRY_SCHEDULE")),
                Duration.ofMillis(Long.parseLong(env.getOrDefault("WEBHOOK_TIMEOUT_MS", "5000").trim())));
    }
}
