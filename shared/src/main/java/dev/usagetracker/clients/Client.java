package dev.usagetracker.clients;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Instant;
import java.util.List;

/**
 * A registered client application, without its secrets; {@code plan} names its rate limits and
 * {@code credentials} what authentication checks on every request (valid keys, disabled, erasing).
 */
public record Client(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt, String plan,
                     Credentials credentials) {
    public Client {
        credentials = credentials == null ? Credentials.NONE : credentials;
    }

    public Client(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt, String plan) {
        this(clientId, name, role, allowedIps, createdAt, plan, Credentials.NONE);
    }

    public Client(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt) {
        this(clientId, name, role, allowedIps, createdAt, Principal.DEFAULT_PLAN);
    }

    public Client withCredentials(Credentials credentials) {
        return new Client(clientId, name, role, allowedIps, createdAt, plan, credentials);
    }
}
