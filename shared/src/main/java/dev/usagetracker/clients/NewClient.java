package dev.usagetracker.clients;

import dev.usagetracker.auth.Role;
import java.time.Instant;
import java.util.List;

/** What the store writes for a registration: hashes for lookups, ciphertext for the secrets. */
public record NewClient(String clientId, String name, Role role, List<String> allowedIps, Instant createdAt,
                        String emailHash, byte[] emailCiphertext, String apiKeyHash, byte[] apiKeyCiphertext) {}
