package dev.usagetracker.realtime;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes each daily aggregate change to the WebSocket connections that may see it: the client's own and
 * every admin's. A connection API Gateway reports gone (it closed without a {@code $disconnect}
 * reaching us) is deleted. Live updates are best effort: a failed push is logged and skipped, never
 * retried, since a retry would send the batch again to everyone who already got it.
 */
public final class UsageFanout {
    private static final Logger LOG = LoggerFactory.getLogger(UsageFanout.class);

    private final ConnectionStore store;
    private final LiveConnections connections;

    public record Result(int delivered, int gone, int failed) {}

    public UsageFanout(ConnectionStore store, LiveConnections connections) {
        this.store = store;
        this.connections = connections;
    }

    public Result push(List<UsageChange> changes) {
        if (changes.isEmpty()) return new Result(0, 0, 0);
        // One index query per audience per batch, however many changes it has.
        Map<String, List<String>> audiences = new HashMap<>();
        List<String> admins = store.audience(LiveConnection.EVERYONE);
        int delivered = 0, gone = 0, failed = 0;
        java.util.Set<String> dropped = new java.util.HashSet<>();
        for (UsageChange change : changes) {
            List<String> own = audiences.computeIfAbsent(change.clientId(), store::audience);
            String frame = change.message().frame(change.id());
            for (List<String> targets : List.of(own, admins)) {
                for (String connectionId : targets) {
                    if (dropped.contains(connectionId)) continue;
                    switch (connections.send(connectionId, frame)) {
                        case DELIVERED -> delivered++;
                        case GONE -> {
                            gone++;
                            dropped.add(connectionId);
                            store.delete(connectionId);
                        }
                        case FAILED -> failed++;
                    }
                }
            }
        }
        if (failed > 0) LOG.warn("{} live update pushes failed", failed);
        return new Result(delivered, gone, failed);
    }
}
