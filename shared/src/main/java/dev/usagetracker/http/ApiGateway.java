package dev.usagetracker.http;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.observability.Correlation;
import dev.usagetracker.observability.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place a route's outcome becomes HTTP: known failures become their problem, anything else a
 * 500 problem without a stack trace in the response (the trace goes to the log, the body never).
 */
public final class ApiGateway {
    private static final Logger LOG = LoggerFactory.getLogger(ApiGateway.class);

    @FunctionalInterface
    public interface Route {
        APIGatewayV2HTTPResponse handle(HttpRequest request);
    }

    private ApiGateway() {}

    private static String requestIdOf(APIGatewayV2HTTPEvent event) {
        return event.getRequestContext() == null ? null : event.getRequestContext().getRequestId();
    }

    /**
     * Runs a route with the request id as correlation id (logs, EMF, SQS message attributes) and logs
     * one access line per request: method, path without the query string (it may hold a ticket), status.
     */
    public static APIGatewayV2HTTPResponse serve(APIGatewayV2HTTPEvent event, Route route) {
        long started = System.nanoTime();
        try (Correlation.Scope ignored = Correlation.begin(requestIdOf(event))) {
            APIGatewayV2HTTPResponse response = dispatch(event, route);
            if (response.getStatusCode() == 429) Metrics.begin().count(Metrics.RATE_LIMIT_REJECTIONS, 1).flush();
            LOG.atInfo().addKeyValue("method", event.getRequestContext() == null || event.getRequestContext().getHttp() == null
                            ? null : event.getRequestContext().getHttp().getMethod())
                    .addKeyValue("path", event.getRawPath())
                    .addKeyValue("status", response.getStatusCode())
                    .addKeyValue("duration_ms", (System.nanoTime() - started) / 1_000_000)
                    .log("request completed");
            return response;
        }
    }

    private static APIGatewayV2HTTPResponse dispatch(APIGatewayV2HTTPEvent event, Route route) {
        HttpRequest request = null;
        try {
            request = HttpRequest.from(event);
            return route.handle(request);
        } catch (ApiException e) {
            return Responses.problem(e, requestIdOf(event));
        } catch (RuntimeException e) {
            var unavailable = DependencyFailure.of(e);
            if (unavailable.isPresent()) {
                LOG.warn("dependency unavailable on {} request {} ({})", request == null ? "?" : request.path(),
                        request == null ? "?" : request.requestId(), e.getClass().getSimpleName());
                return Responses.problem(unavailable.get(), requestIdOf(event));
            }
            LOG.error("unhandled error on {} {} request {}", request == null ? "?" : request.method(),
                    request == null ? "?" : request.path(), request == null ? "?" : request.requestId(), e);
            return Responses.internalError(requestIdOf(event));
        }
    }
}
