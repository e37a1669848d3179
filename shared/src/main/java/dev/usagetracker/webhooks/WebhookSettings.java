package dev.usagetracker.webhooks;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code WEBHOOK_QUEUE_URL}, {@code WEBHOOK_DLQ_URL}; {@code WEBHOOK_ALLOW_PRIVATE} (default false: https
 * and public addresses only; only {@code ./scripts/dev} sets true so demos can receive on loopback);
 * {@code WEBHOOK_RESERVED_PORTS} (comma-separated ports no receiver may use: the local runtime sets its own
 * gateway, WebSocket and emulator ports); {@code WEBHOOK_RETRY_SCHEDULE} (default {@value RetrySchedule#DEFAULT});
 * {@code WEBHOOK_TIMEOUT_MS} (5000).
 */
public record WebhookSettings(String queueUrl, String deadLetterUrl, boolean allowPrivate, Set<Integer> reservedPorts,
                              RetrySchedule schedule, Duration timeout) {
    public static WebhookSettings from(Map<String, String> env) {
        return new WebhookSettings(env.getOrDefault("WEBHOOK_QUEUE_URL", ""), env.getOrDefault("WEBHOOK_DLQ_URL", ""),
                Boolean.parseBoolean(env.getOrDefault("WEBHOOK_ALLOW_PRIVATE", "false").trim()),
                ports(env.getOrDefault("WEBHOOK_RESERVED_PORTS", "")),
                RetrySchedule.parse(env.get("WEBHOOK_RETRY_SCHEDULE")),
                Duration.ofMillis(Long.parseLong(env.getOrDefault("WEBHOOK_TIMEOUT_MS", "5000").trim())));
    }

    private static Set<Integer> ports(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Integer::parseInt)
                .collect(Collectors.toUnmodifiableSet());
    }
}
