package dev.usagetracker.ingest;

import java.time.Instant;

/** A validated hit: when, from which address, on which endpoint. */
public record Hit(Instant timestamp, String ip, String endpoint) {}
