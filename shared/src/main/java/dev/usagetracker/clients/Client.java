package dev.usagetracker.clients;

import dev.usagetracker.auth.Role;
import java.time.Instant;
import java.util.List;

/** A registered client application, without its secrets. */
public record Client(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt) {}
