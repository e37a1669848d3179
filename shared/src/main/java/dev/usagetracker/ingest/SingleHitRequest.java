package dev.usagetracker.ingest;

/** {@code POST /api/logs} with one hit; {@code api_key} in the body is the original brief's way to authenticate. */
public record SingleHitRequest(String ip, String endpoint, String timestamp, String apiKey) {}
