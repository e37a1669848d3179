package dev.usagetracker.route;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Json;
import dev.usagetracker.ratelimit.RouteClass;

/**
 * One route's shape, declared once: how its caller authenticates, the rate class one request is charged
 * to, and the service call that answers. {@link RouteGate} runs every route alike: anything read before
 * the caller is known, then authentication, then the rate limit, then the call.
 */
public record Route(Auth auth, RouteClass rateClass, Preparation preparation) {

    /** The service call and its mapping to HTTP, once the caller is known and charged. */
    @FunctionalInterface
    public interface Call {
        APIGatewayV2HTTPResponse answer(Principal caller, HttpRequest request);
    }

    /** A call whose JSON body was bound before authentication. */
    @FunctionalInterface
    public interface BodyCall<B> {
        APIGatewayV2HTTPResponse answer(Principal caller, B body, HttpRequest request);
    }

    /** What a route reads before its caller is authenticated, giving the call that then runs. */
    @FunctionalInterface
    public interface Preparation {
        Call prepare(HttpRequest request);
    }

    public static Route of(Auth auth, RouteClass rateClass, Call call) {
        return new Route(auth, rateClass, request -> call);
    }

    /**
     * A route whose JSON body is bound first: a malformed body is 400 (413, 415) before any credential
     * is checked and costs no rate-limit unit.
     */
    public static <B> Route withBody(Class<B> type, Auth auth, RouteClass rateClass, BodyCall<B> call) {
        return new Route(auth, rateClass, request -> {
            B body = Json.bind(request.jsonBody().node(), type);
            return (caller, sameRequest) -> call.answer(caller, body, sameRequest);
        });
    }
}
