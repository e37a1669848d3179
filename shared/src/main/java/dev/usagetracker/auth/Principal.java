package dev.usagetracker.auth;

import java.util.Set;

/**
 * Who is calling, after authentication: a client id, its role, the scopes its credential carries and
 * its rate-limit plan (from the client row, which authentication reads anyway).
 */
public record Principal(String clientId, Role role, Set<String> scopes, String plan) {
    public static final String DEFAULT_PLAN = "default";
    public static final String SCOPE_LOGS_WRITE = "logs:write";
    public static final String SCOPE_USAGE_READ = "usage:read";
    public static final String SCOPE_USAGE_ADMIN = "usage:admin";

    public Principal(String clientId, Role role, Set<String> scopes) {
        this(clientId, role, scopes, DEFAULT_PLAN);
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
}
