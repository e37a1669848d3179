package dev.usagetracker.realtime;

/** Pushes a message to one open WebSocket connection, or closes it (on AWS: API Gateway's {@code @connections}). */
public interface LiveConnections {
    enum Delivery { DELIVERED, GONE, FAILED }

    Delivery send(String connectionId, String message);

    /** {@code DELETE @connections/{id}}: API Gateway closes the socket; GONE if it was closed already. */
    Delivery close(String connectionId);
}
