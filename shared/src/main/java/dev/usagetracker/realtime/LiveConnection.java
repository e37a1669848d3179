package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Instant;

/**
 * A WebSocket connection opened with a valid token: whose it is and whose updates it receives. The
 * {@code audience} is the client id, or {@link #EVERYONE} for an admin, so the fan-out finds every
 * connection an update goes to with two index queries.
 */
public record LiveConnection(String connectionId, String clientId, Role role, String audience, Instant connectedAt,
                             Instant expiresAt) {
    /** Not a client id ([a-z0-9_-]): the audience of admin connections. */
    public static final String EVERYONE = "*";

    public static LiveConnection of(String connectionId, Principal viewer, Instant connectedAt, Instant expiresAt) {
        return new LiveConnection(connectionId, viewer.clientId(), viewer.role(),
                viewer.isAdmin() ? EVERYONE : viewer.clientId(), connectedAt, expiresAt);
    }
}
