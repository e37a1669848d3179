package dev.usagetracker.realtime;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Where the open WebSocket connections are kept (on AWS: the connections table). */
public interface ConnectionStore {
    void put(LiveConnection connection);

    void delete(String connectionId);

    Optional<LiveConnection> find(String connectionId);

    /** The connections whose audience is {@code audience} (a client id, or {@link LiveConnection#EVERYONE}). */
    List<LiveConnection> audience(String audience);

    /** Every connection opened with a credential of {@code clientId}: its own audience, and its admin connections. */
    default List<LiveConnection> ofClient(String clientId) {
        return Stream.concat(audience(clientId).stream(), audience(LiveConnection.EVERYONE).stream())
                .filter(c -> c.clientId().equals(clientId)).toList();
    }
}
