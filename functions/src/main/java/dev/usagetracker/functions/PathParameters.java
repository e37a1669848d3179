package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;

/** A route's path parameter as API Gateway decoded it ({@code /api/clients/{client_id}}); null if absent. */
final class PathParameters {
    private PathParameters() {}

    static String of(APIGatewayV2HTTPEvent event, String name) {
        return event.getPathParameters() == null ? null : event.getPathParameters().get(name);
    }
}
