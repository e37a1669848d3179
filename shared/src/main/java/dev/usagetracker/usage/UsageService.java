package dev.usagetracker.usage;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.store.UsageKeys;
import dev.usagetracker.usage.DailyUsageReport.ClientUsage;
import dev.usagetracker.usage.DailyUsageReport.DayCount;
import dev.usagetracker.usage.TopUsageReport.TopClient;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The read side: a client sees only itself; an admin sees every client and the ranking. */
public final class UsageService {
    private final UsageStore usage;
    private final ClientStore clients;
    private final Clock clock;

    public UsageService(UsageStore usage, ClientStore clients, Clock clock) {
        this.usage = usage;
        this.clients = clients;
        this.clock = clock;
    }

    /** A daily query the caller may make: one client, or all of them (empty). */
    public record DailyQuery(Optional<String> clientId, int days) {}

    /** Access rules first, before any cache or database: a client sees only itself. */
    public DailyQuery dailyQuery(Principal principal, Optional<String> clientId, int days) {
        requireScope(principal, Principal.SCOPE_USAGE_READ);
        if (!principal.isAdmin()) {
            if (clientId.isPresent() && !clientId.get().equals(principal.clientId())) {
                throw ApiException.forbidden("A client can read only its own usage.");
            }
            return new DailyQuery(Optional.of(principal.clientId()), days);
        }
        return new DailyQuery(clientId, days);
    }

    public DailyUsageReport daily(Principal principal, Optional<String> clientId, int days) {
        return daily(dailyQuery(principal, clientId, days));
    }

    public DailyUsageReport daily(DailyQuery query) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        List<LocalDate> window = new ArrayList<>(query.days());
        for (int i = query.days() - 1; i >= 0; i--) window.add(today.minusDays(i));
        String from = window.getFirst().toString();
        String to = today.toString();
        if (query.clientId().isPresent()) {
            return new DailyUsageReport(from, to, List.of(single(query.clientId().get(), window)));
        }
        Map<String, Map<LocalDate, Long>> counts = usage.dailyCountsAllClients(window);
        List<ClientUsage> all = clients.list().stream()
                .map(c -> usageOf(c.clientId(), c.name(), window, counts.getOrDefault(c.clientId(), Map.of())))
                .toList();
        return new DailyUsageReport(from, to, all);
    }

    /** The ranking shows other clients: admins only. */
    public void requireRankingAccess(Principal principal) {
        requireScope(principal, Principal.SCOPE_USAGE_READ);
        if (!principal.isAdmin()) {
            throw ApiException.forbidden("The ranking shows other clients; it needs the admin role.");
        }
    }

    public TopUsageReport top(Principal principal, int limit, int hours) {
        requireRankingAccess(principal);
        return top(limit, hours);
    }

    /** The hour buckets ({@code yyyy-MM-ddTHH}) of the last {@code hours} hours, oldest first, and where they start. */
    public record Window(List<String> hours, Instant from, Instant to) {}

    public Window window(int hours) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant currentHour = now.truncatedTo(ChronoUnit.HOURS);
        List<String> buckets = new ArrayList<>(hours);
        for (int i = hours - 1; i >= 0; i--) buckets.add(UsageKeys.hour(currentHour.minus(i, ChronoUnit.HOURS)));
        return new Window(buckets, currentHour.minus(hours - 1L, ChronoUnit.HOURS), now);
    }

    /** The ranking from the aggregates table (the source of truth). */
    public TopUsageReport top(int limit, int hours) {
        Window w = window(hours);
        return rank(w, usage.hourlyTotals(w.hours()), limit, clients::names);
    }

    /** Orders totals by count descending, ties by client id, and names the first {@code limit}. */
    public static TopUsageReport rank(Window window, Map<String, Long> totals, int limit,
                                      java.util.function.Function<List<String>, Map<String, String>> names) {
        List<Map.Entry<String, Long>> ranked = totals.entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(limit)
                .toList();
        Map<String, String> named = names.apply(ranked.stream().map(Map.Entry::getKey).toList());
        List<TopClient> top = ranked.stream()
                .map(e -> new TopClient(e.getKey(), named.getOrDefault(e.getKey(), e.getKey()), e.getValue()))
                .toList();
        return new TopUsageReport(window.from().toString(), window.to().toString(), top);
    }

    private ClientUsage single(String clientId, List<LocalDate> window) {
        Client client = clients.find(clientId).orElseThrow(() -> ApiException.notFound("No client with that client_id."));
        return usageOf(client.clientId(), client.name(), window, usage.dailyCounts(clientId, window));
    }

    private static ClientUsage usageOf(String clientId, String name, List<LocalDate> window, Map<LocalDate, Long> counts) {
        List<DayCount> days = window.stream().map(d -> new DayCount(d.toString(), counts.getOrDefault(d, 0L))).toList();
        return new ClientUsage(clientId, name, days, days.stream().mapToLong(DayCount::count).sum());
    }

    private static void requireScope(Principal principal, String scope) {
        if (!principal.has(scope)) throw ApiException.forbidden("This credential may not read usage.");
    }
}
