package dev.usagetracker.clients;

import java.util.List;
import java.util.Optional;

/**
 * What an admin changes about a client ({@code PATCH /api/clients/{client_id}}), validated already:
 * each part absent when the request left it out. {@code allowedIps} are normalised CIDR blocks (empty =
 * any address).
 */
public record AdminChange(Optional<String> plan, Optional<Boolean> disabled, Optional<List<String>> allowedIps) {}
