package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** The local event source mapping behaves like Lambda's: failed messages come back, then go to the DLQ. */
@ExtendWith(TestStack.Extension.class)
class EventSourceMappingIT {
    static LocalRuntime runtime;
    static TestStack stack;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of(), Optional.of("esm-admin-key-0123456789"),
                Optional.of(Duration.ofMillis(100)), 1, 2, false, "esm-"));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void unreadableMessageIsRetriedThenRedrivenToTheDeadLetterQueue() {
        String queue = stack.sqs().getQueueUrl(r -> r.queueName("esm-HitsQueue")).queueUrl();
        String dlq = stack.sqs().getQueueUrl(r -> r.queueName("esm-HitsDeadLetterQueue")).queueUrl();
        stack.sqs().sendMessage(r -> r.queueUrl(queue).messageBody("{\"v\":1,\"not\":\"a hit batch\"}"));

        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        List<Message> dead = List.of();
        while (dead.isEmpty() && System.nanoTime() < deadline) {
            dead = stack.sqs().receiveMessage(r -> r.queueUrl(dlq).waitTimeSeconds(1)
                    .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)).messages();
        }
        assertThat(dead).as("message in the DLQ after maxReceiveCount failed deliveries").hasSize(1);
        assertThat(dead.getFirst().body()).contains("not");
        SqsEventSourceMapping esm = runtime.eventSourceMappings().getFirst();
        assertThat(esm.invocations()).as("one invocation per delivery before redrive").isGreaterThanOrEqualTo(5);
        assertThat(esm.deletedMessages()).as("a failed message is never deleted").isZero();
    }
}
