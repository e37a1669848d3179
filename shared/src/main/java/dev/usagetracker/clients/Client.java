package dev.usagetracker.clients;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Instant;
import java.util.List;

/** A registered client application, without its secrets; {@code plan} names its rate limits. */
public record Client(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt, String plan) {
    public Client(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt) {
        this(clientId, name, role, allowedIps, createdAt, Principal.DEFAULT_PLAN);
    }
}
