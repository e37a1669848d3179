package dev.usagetracker.clients;

/** The 201 body: the only time the API key is ever shown. */
public record RegisteredClient(String clientId, String name, String email, String apiKey, String createdAt) {}
