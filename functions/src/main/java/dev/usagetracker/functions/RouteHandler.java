package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.wiring.Warmup;

/**
 * An HTTP API route's function: its route, built once per container in the handler's no-arg constructor
 * (which Lambda calls, before the SnapStart snapshot), served through {@link ApiGateway#serve}.
 */
public abstract class RouteHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final ApiGateway.Route route;

    /** Lambda's path: the route from the container's services, then the warm-ups its first request needs. */
    RouteHandler(ApiGateway.Route route, Warmup... warmups) {
        this.route = route;
        Container.app().prime(warmups);
    }

    /** Tests' path: a route built from the dependencies they pass, no container and no warm-ups. */
    RouteHandler(ApiGateway.Route route) {
        this.route = route;
    }

    @Override
    public final APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, route);
    }
}
