package dev.usagetracker.clients;

import java.util.List;

/** The body of {@code POST /api/register}; unknown fields are rejected by the JSON binder. */
public record Registration(String name, String email, String clientId, List<String> allowedIps) {}
