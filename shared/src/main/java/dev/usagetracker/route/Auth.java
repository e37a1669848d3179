package dev.usagetracker.route;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.HttpRequest;
import java.util.Optional;

/**
 * How a route's caller proves who it is (401 without a credential, 403 when it may not). Admin routes
 * authenticate as {@link #BEARER} and their service refuses a caller without the admin role.
 */
@FunctionalInterface
public interface Auth {
    Principal authenticate(Authenticator authenticator, HttpRequest request);

    /** An access token, or API Gateway's authorizer verdict on it. */
    Auth BEARER = Authenticator::bearer;

    /** The API key in X-API-Key, else an access token. */
    Auth API_KEY_OR_BEARER = (authenticator, request) -> authenticator.apiKeyOrBearer(request, Optional.empty());

    /**
     * The current API key itself, never a token (403): for routes that mint or destroy a lasting
     * credential or control the account; {@code action} names the route in the refusal.
     */
    static Auth apiKeyItself(String action) {
        return (authenticator, request) -> authenticator.apiKeyItself(request, action);
    }
}
