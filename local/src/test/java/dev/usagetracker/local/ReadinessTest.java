package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.local.Readiness.Component;
import dev.usagetracker.local.Readiness.State;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The overall state follows DESIGN.md §5: down only when hits can be stored nowhere. */
class ReadinessTest {

    @Test
    void allOkIsOk() {
        assertThat(Readiness.overall(states(State.ok, State.ok, State.ok))).isEqualTo(State.ok);
    }

    @Test
    void oneStoreDownOrAnythingElseImpairedIsDegraded() {
        assertThat(Readiness.overall(states(State.down, State.ok, State.ok))).isEqualTo(State.degraded);
        assertThat(Readiness.overall(states(State.ok, State.down, State.ok))).isEqualTo(State.degraded);
        assertThat(Readiness.overall(states(State.ok, State.degraded, State.ok))).isEqualTo(State.degraded);
        assertThat(Readiness.overall(states(State.ok, State.ok, State.down))).isEqualTo(State.degraded);
    }

    @Test
    void sqsAndDynamoDbDownIsDown() {
        assertThat(Readiness.overall(states(State.down, State.down, State.ok))).isEqualTo(State.down);
    }

    private static Map<String, Component> states(State dynamo, State sqs, State consumer) {
        Map<String, Component> m = new LinkedHashMap<>();
        m.put("dynamodb", new Component(dynamo, 1, "", Map.of()));
        m.put("sqs", new Component(sqs, 1, "", Map.of()));
        m.put("kms", new Component(State.ok, 1, "", Map.of()));
        m.put("consumer", new Component(consumer, 0, "", Map.of()));
        return m;
    }
}
