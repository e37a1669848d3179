package dev.usagetracker.ingest;

import java.util.List;

/** {@code POST /api/logs} with {@code {"hits":[…]}}, at most {@value HitValidator#MAX_BATCH} hits. */
public record BatchHitRequest(List<HitFields> hits, String apiKey) {}
