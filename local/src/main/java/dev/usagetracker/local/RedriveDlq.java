package dev.usagetracker.local;

import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import dev.usagetracker.queue.DeadLetterRedrive;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * scripts/redrive-dlq: moves the hits DLQ back to the hits queue and prints what moved. Queue URLs and
 * the endpoint come from the environment (HITS_QUEUE_URL, HITS_DLQ_URL, AWS_ENDPOINT_URL_SQS, AWS
 * credentials), which the script fills from .local/runtime.env for a running ./scripts/dev.
 */
public final class RedriveDlq {
    private RedriveDlq() {}

    public static void main(String[] args) {
        Map<String, String> env = new HashMap<>(System.getenv());
        String queue = require(env, "HITS_QUEUE_URL");
        String dlq = require(env, "HITS_DLQ_URL");
        try (SqsClient sqs = AwsClients.sqs(Config.from(env))) {
            DeadLetterRedrive redrive = new DeadLetterRedrive(sqs);
            long waiting = redrive.depth(dlq);
            System.out.println("dead-letter queue: " + waiting + " message(s)");
            if (waiting == 0) return;
            DeadLetterRedrive.Result result = redrive.redrive(dlq, queue, Duration.ofMinutes(10));
            System.out.println("redrive " + result.status() + ": moved " + result.moved() + " of " + result.toMove()
                    + result.failureReason().map(r -> " (" + r + ")").orElse(""));
            if (!"COMPLETED".equals(result.status())) System.exit(1);
        }
    }

    private static String require(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            System.err.println("error: " + name + " is not set (start ./scripts/dev first, or export it)");
            System.exit(2);
        }
        return v;
    }
}
