package dev.usagetracker.cache;

import dev.usagetracker.analytics.ExportCursor;
import dev.usagetracker.analytics.ExportPage;
import dev.usagetracker.analytics.ExportQuery;
import dev.usagetracker.analytics.UsageAnalytics;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;

/**
 * The analytics routes behind the versioned response cache, as /daily: access rules first, then the
 * cache under the client's scope ({@code client:<id>}) or {@code all}, whose versions the consumer bumps
 * after every commit, so a cached answer never outlives a committed write.
 */
public final class CachedAnalytics {
    private final UsageAnalytics analytics;
    private final ResponseCache cache;
    private final ExportCursor cursors;
    private final Clock clock;

    public CachedAnalytics(UsageAnalytics analytics, ResponseCache cache, ExportCursor cursors, Clock clock) {
        this.analytics = analytics;
        this.cache = cache;
        this.cursors = cursors;
        this.clock = clock;
    }

    public ResponseCache.Answer hourly(Principal principal, Optional<String> clientId, int hours) {
        Optional<String> scope = analytics.scope(principal, clientId, true);
        String hour = clock.instant().truncatedTo(ChronoUnit.HOURS).toString();
        // the current hour is in the key: a new hour is a new window even if nothing was written
        String key = "hourly:" + scope.orElse("*") + ":" + hours + ":" + hour;
        return cache.get(scopeOf(scope), key, () -> json(analytics.hourly(scope, hours)));
    }

    public ResponseCache.Answer endpoints(Principal principal, Optional<String> clientId, int days, int limit) {
        return endpoints(principal, clientId, days, limit, Optional.empty());
    }

    /** {@code groupBy}: {@code endpoint} (the default) or {@code method}. */
    public ResponseCache.Answer endpoints(Principal principal, Optional<String> clientId, int days, int limit,
                                          Optional<String> groupBy) {
        boolean byMethod = UsageAnalytics.groupByMethod(groupBy);
        String id = analytics.scope(principal, clientId, false).orElseThrow();
        String key = "endpoints:" + id + ":" + days + ":" + limit + ":" + LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC)
                + (byMethod ? ":method" : "");
        return cache.get("client:" + id, key, () -> json(analytics.endpoints(id, days, limit, byMethod)));
    }

    /** A page of an export and the cursor of the next one, if any. */
    public record Export(ExportQuery query, ExportPage page, Optional<String> nextCursor, String cacheStatus, long ageSeconds) {
        public Map<String, String> headers() {
            return Map.of("X-Cache", cacheStatus, "Age", Long.toString(ageSeconds));
        }
    }

    public Export export(Principal principal, Map<String, String> params) {
        Optional<String> scope = analytics.scope(principal, Optional.ofNullable(params.get("client_id")), true);
        ExportQuery query = analytics.exportQuery(scope, params, cursors);
        String key = "export:" + query.binding().replace('\n', ':') + ":"
                + query.after().map(p -> p.clientId() + "@" + p.period()).orElse("-")
                + ":" + LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        ResponseCache.Answer answer = cache.get(scopeOf(scope), key, () -> json(analytics.export(query)));
        ExportPage page = Json.read(answer.json().getBytes(StandardCharsets.UTF_8), ExportPage.class);
        return new Export(query, page, Optional.ofNullable(page.next()).map(p -> cursors.encode(query, p)),
                answer.cacheStatus(), answer.ageSeconds());
    }

    private static String scopeOf(Optional<String> clientId) {
        return clientId.map(id -> "client:" + id).orElse("all");
    }

    private static String json(Object report) {
        return new String(Json.write(report), StandardCharsets.UTF_8);
    }
}
