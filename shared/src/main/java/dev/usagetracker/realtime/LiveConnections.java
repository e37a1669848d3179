package dev.usagetracker.realtime;

/** Pushes a message to one open WebSocket connection (on AWS: API Gateway's {@code @connections}). */
public interface LiveConnections {
    enum Delivery { DELIVERED, GONE, FAILED }

    Delivery send(String connectionId, String message);
}
