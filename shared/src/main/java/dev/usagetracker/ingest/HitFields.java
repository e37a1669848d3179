package dev.usagetracker.ingest;

/** One hit as a client reports it, before validation. */
public record HitFields(String ip, String endpoint, String timestamp) {}
