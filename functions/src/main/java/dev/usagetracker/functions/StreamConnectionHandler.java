package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2WebSocketResponse;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.realtime.StreamConnections;
import dev.usagetracker.wiring.Warmup;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket API's {@code $connect} (token in {@code ?token=}) and {@code $disconnect}. A non-2xx
 * answer to {@code $connect} makes API Gateway refuse the handshake with that status.
 */
public final class StreamConnectionHandler implements RequestHandler<APIGatewayV2WebSocketEvent, APIGatewayV2WebSocketResponse> {
    private static final Logger LOG = LoggerFactory.getLogger(StreamConnectionHandler.class);

    private final StreamConnections connections;

    public StreamConnectionHandler() {
        this(Container.app().realtime().connections());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ);
    }

    public StreamConnectionHandler(StreamConnections connections) {
        this.connections = connections;
    }

    @Override
    public APIGatewayV2WebSocketResponse handleRequest(APIGatewayV2WebSocketEvent event, Context context) {
        var ctx = event.getRequestContext();
        String connectionId = ctx == null ? null : ctx.getConnectionId();
        String route = ctx == null ? "" : String.valueOf(ctx.getRouteKey());
        try {
            if (connectionId == null || connectionId.isBlank()) throw ApiException.badRequest("No connection id.");
            switch (route) {
                case "$connect" -> {
                    Map<String, String> query = event.getQueryStringParameters() == null ? Map.of() : event.getQueryStringParameters();
                    String sourceIp = ctx.getIdentity() == null ? null : ctx.getIdentity().getSourceIp();
                    connections.connect(connectionId, query.get("token"), sourceIp);
                }
                case "$disconnect" -> connections.disconnect(connectionId);
                default -> throw ApiException.badRequest("This API accepts no messages; it only pushes usage updates.");
            }
            return answer(200, "");
        } catch (ApiException e) {
            return answer(e.status(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("{} failed for a connection", route, e);
            return answer(500, "Internal server error");
        }
    }

    private static APIGatewayV2WebSocketResponse answer(int status, String message) {
        APIGatewayV2WebSocketResponse response = new APIGatewayV2WebSocketResponse();
        response.setStatusCode(status);
        response.setBody(message);
        return response;
    }
}
