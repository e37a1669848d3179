package dev.usagetracker.functions;

import dev.usagetracker.App;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.route.Route;
import dev.usagetracker.route.RouteGate;
import java.util.function.Function;

/** The container's composition root, created once by the first handler and kept across invocations. */
final class Container {
    private static final App APP = App.fromEnvironment();

    private Container() {}

    static App app() {
        return APP;
    }

    /** A declared route, built from this container's services and run by its authenticator and rate limits. */
    static ApiGateway.Route route(Function<App, Route> declaration) {
        return new RouteGate(APP.identity().authenticator(), APP.plans().rateLimits()).serve(declaration.apply(APP));
    }
}
