package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import dev.usagetracker.realtime.UsageFanout;
import dev.usagetracker.store.UsageStreamRecords;
import dev.usagetracker.wiring.Warmup;
import java.util.Map;

/** Usage table stream (daily items) → every WebSocket connection that may see the change, via @connections. */
public final class StreamFanoutHandler implements RequestHandler<DynamodbEvent, Map<String, Integer>> {
    private final UsageFanout fanout;

    public StreamFanoutHandler() {
        this(Container.app().realtime().fanout());
        Container.app().prime(Warmup.JSON);
    }

    public StreamFanoutHandler(UsageFanout fanout) {
        this.fanout = fanout;
    }

    @Override
    public Map<String, Integer> handleRequest(DynamodbEvent event, Context context) {
        UsageFanout.Result r = fanout.push(UsageStreamRecords.changes(event));
        return Map.of("delivered", r.delivered(), "gone", r.gone(), "failed", r.failed(), "revoked", r.revoked(),
                "unchecked", r.unchecked());
    }
}
