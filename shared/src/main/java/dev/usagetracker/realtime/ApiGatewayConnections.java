package dev.usagetracker.realtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.apigatewaymanagementapi.ApiGatewayManagementApiClient;
import software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException;

/** {@code POST} and {@code DELETE @connections/{id}} of the WebSocket API (the local runtime serves the same path). */
public final class ApiGatewayConnections implements LiveConnections {
    private static final Logger LOG = LoggerFactory.getLogger(ApiGatewayConnections.class);

    private final ApiGatewayManagementApiClient client;

    public ApiGatewayConnections(ApiGatewayManagementApiClient client) {
        this.client = client;
    }

    @Override
    public Delivery send(String connectionId, String message) {
        try {
            client.postToConnection(r -> r.connectionId(connectionId).data(SdkBytes.fromUtf8String(message)));
            return Delivery.DELIVERED;
        } catch (GoneException e) {
            return Delivery.GONE;
        } catch (SdkException e) {
            LOG.warn("push to a connection failed ({})", e.getClass().getSimpleName());
            return Delivery.FAILED;
        }
    }

    @Override
    public Delivery close(String connectionId) {
        try {
            client.deleteConnection(r -> r.connectionId(connectionId));
            return Delivery.DELIVERED;
        } catch (GoneException e) {
            return Delivery.GONE;
        } catch (SdkException e) {
            LOG.warn("closing a connection failed ({})", e.getClass().getSimpleName());
            return Delivery.FAILED;
        }
    }
}
