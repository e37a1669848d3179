package dev.usagetracker.realtime;

import java.util.List;
import java.util.Optional;

/** Where the open WebSocket connections are kept (on AWS: the connections table). */
public interface ConnectionStore {
    void put(LiveConnection connection);

    void delete(String connectionId);

    Optional<LiveConnection> find(String connectionId);

    /** The ids of the connections whose audience is {@code audience} (a client id, or {@link LiveConnection#EVERYONE}). */
    List<String> audience(String audience);
}
