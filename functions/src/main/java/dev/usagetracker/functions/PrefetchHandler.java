package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import dev.usagetracker.cache.Prefetch;
import java.util.Map;

/** EventBridge schedule → reconcile the Redis counters if needed and keep the /top cache warm. */
public final class PrefetchHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    private final Prefetch prefetch;

    public PrefetchHandler() {
        this(Container.app().usage().prefetch());
    }

    public PrefetchHandler(Prefetch prefetch) {
        this.prefetch = prefetch;
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> scheduledEvent, Context context) {
        return prefetch.run();
    }
}
