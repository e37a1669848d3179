package dev.usagetracker.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.InMemoryClientStore;
import dev.usagetracker.clients.NewClient;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.usage.DailyUsageReport.ClientUsage;
import dev.usagetracker.usage.DailyUsageReport.DayCount;
import dev.usagetracker.usage.TopUsageReport.TopClient;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class UsageServiceTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:34:56.789Z");
    private static final Principal ACME = client("acme");
    private static final Principal ADMIN = new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN));

    private final InMemoryClientStore clients = new InMemoryClientStore();
    private final FakeUsageStore usage = new FakeUsageStore();
    private final UsageService service = new UsageService(usage, clients, Clock.fixed(NOW, ZoneOffset.UTC));

    UsageServiceTest() {
        clients.add(new Client("acme", "Acme Shop", Role.CLIENT, List.of(), NOW));
        clients.add(new Client("beta", "Beta Labs", Role.CLIENT, List.of(), NOW));
        clients.add(new Client("idle", "Idle Inc", Role.CLIENT, List.of(), NOW));
    }

    // --- daily ----------------------------------------------------------------------------------

    @Test
    void showsAClientItsOwnUsageZeroFilledOldestFirst() {
        usage.day("acme", "2026-01-29", 4);
        usage.day("acme", "2026-01-31", 6);
        usage.day("acme", "2026-01-28", 100); // outside a 3-day window
        usage.day("beta", "2026-01-30", 9);

        DailyUsageReport report = service.daily(ACME, Optional.empty(), 3);

        assertThat(report.from()).isEqualTo("2026-01-29");
        assertThat(report.to()).isEqualTo("2026-01-31");
        assertThat(report.clients()).singleElement().satisfies(acme -> {
            assertThat(acme.clientId()).isEqualTo("acme");
            assertThat(acme.name()).isEqualTo("Acme Shop");
            assertThat(acme.days()).containsExactly(
                    new DayCount("2026-01-29", 4), new DayCount("2026-01-30", 0), new DayCount("2026-01-31", 6));
            assertThat(acme.total()).isEqualTo(10);
        });
    }

    @Test
    void letsAClientNameItselfExplicitly() {
        assertThat(service.daily(ACME, Optional.of("acme"), 1).clients())
                .extracting(ClientUsage::clientId).containsExactly("acme");
    }

    @Test
    void forbidsAClientToReadAnotherClient() {
        ApiException e = apiError(() -> service.daily(ACME, Optional.of("beta"), 7));

        assertThat(e.status()).isEqualTo(403);
        assertThat(usage.reads).isZero();
    }

    @Test
    void coversExactlyTheRequestedNumberOfDaysAcrossAMonthBoundary() {
        UsageService onMarchFirst = new UsageService(usage, clients,
                Clock.fixed(Instant.parse("2026-03-01T00:00:00Z"), ZoneOffset.UTC));

        DailyUsageReport report = onMarchFirst.daily(ACME, Optional.empty(), 3);

        assertThat(report.from()).isEqualTo("2026-02-27");
        assertThat(report.to()).isEqualTo("2026-03-01");
        assertThat(report.clients().getFirst().days()).extracting(DayCount::date)
                .containsExactly("2026-02-27", "2026-02-28", "2026-03-01");
    }

    @Test
    void showsAnAdminEveryClientIncludingThoseWithoutHits() {
        usage.day("acme", "2026-01-31", 2);
        usage.day("beta", "2026-01-30", 5);
        usage.day("beta", "2026-01-31", 1);

        DailyUsageReport report = service.daily(ADMIN, Optional.empty(), 2);

        assertThat(report.clients()).extracting(ClientUsage::clientId).containsExactly("acme", "beta", "idle");
        assertThat(report.clients()).extracting(ClientUsage::total).containsExactly(2L, 6L, 0L);
        ClientUsage idle = report.clients().get(2);
        assertThat(idle.name()).isEqualTo("Idle Inc");
        assertThat(idle.days()).containsExactly(new DayCount("2026-01-30", 0), new DayCount("2026-01-31", 0));
    }

    @Test
    void letsAnAdminReadOneClient() {
        usage.day("beta", "2026-01-31", 3);

        DailyUsageReport report = service.daily(ADMIN, Optional.of("beta"), 1);

        assertThat(report.clients()).singleElement().satisfies(beta -> {
            assertThat(beta.clientId()).isEqualTo("beta");
            assertThat(beta.total()).isEqualTo(3);
        });
    }

    @Test
    void answers404ForAnUnknownClient() {
        assertThat(apiError(() -> service.daily(ADMIN, Optional.of("ghost"), 7)).status()).isEqualTo(404);
    }

    @Test
    void forbidsACredentialWithoutTheReadScope() {
        Principal writeOnly = new Principal("acme", Role.CLIENT, Set.of(Principal.SCOPE_LOGS_WRITE));

        assertThat(apiError(() -> service.daily(writeOnly, Optional.empty(), 7)).status()).isEqualTo(403);
        assertThat(apiError(() -> service.top(writeOnly, 3, 24)).status()).isEqualTo(403);
    }

    // --- top ------------------------------------------------------------------------------------

    @Test
    void keepsTheRankingFromClients() {
        ApiException e = apiError(() -> service.top(ACME, 3, 24));

        assertThat(e.status()).isEqualTo(403);
        assertThat(usage.reads).isZero();
    }

    @Test
    void ranksByCountDescendingThenClientIdAndAppliesTheLimit() {
        usage.hour("gamma", "2026-01-31T12", 5);
        usage.hour("acme", "2026-01-31T11", 5);
        usage.hour("beta", "2026-01-31T12", 4);
        usage.hour("beta", "2026-01-31T10", 5);
        usage.hour("delta", "2026-01-31T12", 1);

        TopUsageReport report = service.top(ADMIN, 3, 24);

        assertThat(report.top()).containsExactly(
                new TopClient("beta", "Beta Labs", 9),
                new TopClient("acme", "Acme Shop", 5),
                new TopClient("gamma", "gamma", 5));
    }

    @Test
    void leavesOutClientsWithoutHits() {
        usage.hour("acme", "2026-01-31T12", 1);
        usage.hour("idle", "2026-01-31T12", 0);

        assertThat(service.top(ADMIN, 10, 24).top()).extracting(TopClient::clientId).containsExactly("acme");
    }

    @Test
    void countsOnlyTheRequestedHoursUpToNow() {
        usage.hour("acme", "2026-01-31T09", 100); // before a 3-hour window
        usage.hour("acme", "2026-01-31T10", 1);
        usage.hour("acme", "2026-01-31T12", 2);
        usage.hour("acme", "2026-01-31T13", 50); // after now

        TopUsageReport report = service.top(ADMIN, 3, 3);

        assertThat(usage.requestedHours).containsExactly("2026-01-31T10", "2026-01-31T11", "2026-01-31T12");
        assertThat(report.top()).containsExactly(new TopClient("acme", "Acme Shop", 3));
        assertThat(report.from()).isEqualTo("2026-01-31T10:00:00Z");
        assertThat(report.to()).isEqualTo("2026-01-31T12:34:56Z");
    }

    @Test
    void aOneHourWindowStartsAtTheCurrentHour() {
        TopUsageReport report = service.top(ADMIN, 3, 1);

        assertThat(usage.requestedHours).containsExactly("2026-01-31T12");
        assertThat(report.from()).isEqualTo("2026-01-31T12:00:00Z");
    }

    // --- helpers and fakes ----------------------------------------------------------------------

    private static Principal client(String id) {
        return new Principal(id, Role.CLIENT, Principal.scopesFor(Role.CLIENT));
    }

    private static ApiException apiError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }

    /** Aggregates as the tables hold them; answers only for the days and hours asked about. */
    static final class FakeUsageStore implements UsageStore {
        private final Map<String, Map<LocalDate, Long>> daily = new HashMap<>();
        private final Map<String, Map<String, Long>> hourly = new HashMap<>();
        final List<String> requestedHours = new ArrayList<>();
        int reads;

        void day(String clientId, String day, long count) {
            daily.computeIfAbsent(clientId, c -> new HashMap<>()).put(LocalDate.parse(day), count);
        }

        void hour(String clientId, String hour, long count) {
            hourly.computeIfAbsent(clientId, c -> new HashMap<>()).put(hour, count);
        }

        @Override
        public Map<LocalDate, Long> dailyCounts(String clientId, List<LocalDate> days) {
            reads++;
            return countsIn(clientId, days);
        }

        @Override
        public Map<String, Map<LocalDate, Long>> dailyCountsAllClients(List<LocalDate> days) {
            reads++;
            Map<String, Map<LocalDate, Long>> all = new HashMap<>();
            daily.keySet().forEach(c -> {
                Map<LocalDate, Long> counts = countsIn(c, days);
                if (!counts.isEmpty()) all.put(c, counts);
            });
            return all;
        }

        private Map<LocalDate, Long> countsIn(String clientId, List<LocalDate> days) {
            Map<LocalDate, Long> counts = new HashMap<>();
            daily.getOrDefault(clientId, Map.of()).forEach((d, n) -> {
                if (days.contains(d)) counts.put(d, n);
            });
            return counts;
        }

        @Override
        public Map<String, Long> hourlyTotals(List<String> hours) {
            reads++;
            requestedHours.addAll(hours);
            Map<String, Long> totals = new HashMap<>();
            hourly.forEach((client, byHour) -> byHour.forEach((hour, n) -> {
                if (hours.contains(hour)) totals.merge(client, n, Long::sum);
            }));
            return totals;
        }
    }
}
