package dev.usagetracker.cache;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.Json;
import dev.usagetracker.usage.UsageService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * The read side behind the response cache: access rules first, then the versioned cache, then the
 * source — for /top the Redis counters when they mirror the table, else the aggregates table.
 */
public final class CachedUsage {
    private final UsageService usage;
    private final ResponseCache cache;
    private final Optional<UsageCounters> counters;
    private final java.time.Clock clock;

    public CachedUsage(UsageService usage, ResponseCache cache, Optional<UsageCounters> counters, java.time.Clock clock) {
        this.usage = usage;
        this.cache = cache;
        this.counters = counters;
        this.clock = clock;
    }

    static String topKey(int hours, String lastHour) {
        return "top:" + hours + ":" + lastHour;
    }

    public ResponseCache.Answer daily(Principal principal, Optional<String> clientId, int days) {
        UsageService.DailyQuery query = usage.dailyQuery(principal, clientId, days);
        String scope = query.clientId().map(id -> "client:" + id).orElse("all");
        // The date is in the key: a new day is a new window even if nothing was written.
        String key = "daily:" + query.clientId().orElse("*") + ":" + days + ":" + LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        return cache.get(scope, key, () -> json(usage.daily(query)));
    }

    /** The cached entry holds the top {@value UsageCounters#RANKED}; a smaller limit is a slice of it. */
    public ResponseCache.Answer top(Principal principal, int limit, int hours) {
        usage.requireRankingAccess(principal);
        String key = topKey(hours, usage.window(hours).hours().getLast());
        ResponseCache.Answer full = cache.get("top", key, () -> json(
                counters.filter(UsageCounters::ready).map(c -> c.rankingFromCounters(hours))
                        .orElseGet(() -> usage.top(UsageCounters.RANKED, hours))));
        return new ResponseCache.Answer(slice(full.json(), limit), full.cacheStatus(), full.ageSeconds());
    }

    private static String slice(String json, int limit) {
        try {
            ObjectNode node = (ObjectNode) Json.MAPPER.readTree(json);
            ArrayNode top = (ArrayNode) node.get("top");
            while (top.size() > limit) top.remove(top.size() - 1);
            return Json.MAPPER.writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String json(Object report) {
        return new String(Json.write(report), StandardCharsets.UTF_8);
    }
}
