package dev.usagetracker.clients;

import java.util.List;

/** A client as {@code GET /api/clients/me|{client_id}} and {@code PATCH /api/clients/{client_id}} show it. */
public record ClientView(String clientId, String name, String email, String role, String plan, boolean disabled,
                         List<String> allowedIps, String createdAt) {}
