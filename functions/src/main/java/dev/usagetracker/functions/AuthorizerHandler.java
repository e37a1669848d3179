package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2CustomAuthorizerEvent;
import com.amazonaws.services.lambda.runtime.events.SimpleIAMPolicyResponse;
import dev.usagetracker.auth.AccessVerdict;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.wiring.Warmup;
import java.util.Map;
import java.util.TreeMap;

/**
 * Lambda REQUEST authorizer (payload 2.0, simple responses) for /api/usage/*: verifies the JWT and the
 * IP allowlists once, and hands the verdict to the route in the authorizer context. It lets the request
 * through even when the verdict is a refusal so that the route answers with the contract's problem+json
 * 401/403: an HTTP API can only send a bare 403 for a denial. Routes never act on a refused verdict.
 */
public final class AuthorizerHandler implements RequestHandler<APIGatewayV2CustomAuthorizerEvent, SimpleIAMPolicyResponse> {
    private final Authenticator authenticator;

    public AuthorizerHandler() {
        this(Container.app().identity().authenticator());
        Container.app().prime(Warmup.PUBLIC_KEY, Warmup.CLIENT_READ);
    }

    public AuthorizerHandler(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public SimpleIAMPolicyResponse handleRequest(APIGatewayV2CustomAuthorizerEvent event, Context context) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (event.getHeaders() != null) headers.putAll(event.getHeaders());
        String sourceIp = event.getRequestContext() == null || event.getRequestContext().getHttp() == null
                ? null : event.getRequestContext().getHttp().getSourceIp();
        AccessVerdict verdict = authenticator.verdict(headers.get("Authorization"), sourceIp);
        return new SimpleIAMPolicyResponse(true, verdict.toContext());
    }
}
