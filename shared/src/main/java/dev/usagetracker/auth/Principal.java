package dev.usagetracker.auth;

import java.util.Set;

/**
 * Who is calling, after authentication: a client id, its role, the scopes its credential carries and
 * its rate-limit plan (from the client row, which authentication reads anyway). {@code akh} is the id of
 * the API key behind the credential (the key itself, or the key that minted the access token); {@code
 * iat} and {@code exp} are the token's issue and expiry times in epoch seconds, both 0 for an API key.
 * {@link Authenticator#verdict(Principal, String)} re-checks all of them against the client row.
 */
public record Principal(String clientId, Role role, Set<String> scopes, String plan, String akh, long iat, long exp) {
    public static final String DEFAULT_PLAN = "default";
    public static final String SCOPE_LOGS_WRITE = "logs:write";
    public static final String SCOPE_USAGE_READ = "usage:read";
    public static final String SCOPE_USAGE_ADMIN = "usage:admin";

    public Principal(String clientId, Role role, Set<String> scopes) {
        this(clientId, role, scopes, DEFAULT_PLAN);
    }

    /** A principal without a credential behind it (tests, internal callers): every verdict refuses it. */
    public Principal(String clientId, Role role, Set<String> scopes, String plan) {
        this(clientId, role, scopes, plan, null, 0, 0);
    }

    public static Set<String> scopesFor(Role role) {
        return role == Role.ADMIN
                ? Set.of(SCOPE_LOGS_WRITE, SCOPE_USAGE_READ, SCOPE_USAGE_ADMIN)
                : Set.of(SCOPE_LOGS_WRITE, SCOPE_USAGE_READ);
    }

    public boolean isAdmin() {
        return role == Role.ADMIN && scopes.contains(SCOPE_USAGE_ADMIN);
    }

    public boolean has(String scope) {
        return scopes.contains(scope);
    }

    /** Whether this principal came from an API key rather than an access token. */
    public boolean fromApiKey() {
        return exp == 0;
    }

    /** The same caller on another plan (the plan comes from the client row read at authentication). */
    public Principal withPlan(String newPlan) {
        return new Principal(clientId, role, scopes, newPlan, akh, iat, exp);
    }
}
