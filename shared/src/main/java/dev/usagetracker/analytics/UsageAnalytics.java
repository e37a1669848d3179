package dev.usagetracker.analytics;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import dev.usagetracker.ingest.HitOutcome;
import dev.usagetracker.usage.UsageService;
import dev.usagetracker.usage.UsageStore;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Usage analytics (DESIGN.md §2a): hourly series from the hourly aggregates, per-endpoint breakdowns
 * ({@link EndpointBreakdown}) and exports of daily or hourly counts. Access rules come first: a client
 * sees only itself; an admin names a client or, where the route allows it, sees every client.
 */
public final class UsageAnalytics {
    public static final int MAX_EXPORT_DAYS = 92;
    public static final int MAX_EXPORT_HOURS = 72;
    public static final int DEFAULT_EXPORT_LIMIT = 1_000;
    public static final int MAX_EXPORT_LIMIT = 5_000;

    private final UsageStore aggregates;
    private final AnalyticsStore store;
    private final EndpointBreakdown endpoints;
    private final ClientStore clients;
    private final UsageService usage;
    private final Clock clock;

    public UsageAnalytics(UsageStore aggregates, AnalyticsStore store, EndpointBreakdown endpoints, ClientStore clients,
                          UsageService usage, Clock clock) {
        this.aggregates = aggregates;
        this.store = store;
        this.endpoints = endpoints;
        this.clients = clients;
        this.usage = usage;
        this.clock = clock;
    }

    public EndpointBreakdown breakdown() {
        return endpoints;
    }

    // ---- access ----

    /** One client (the caller, or the one an admin names), or every client when an admin names none. */
    public Optional<String> scope(Principal principal, Optional<String> clientId, boolean adminMayOmit) {
        if (!principal.has(Principal.SCOPE_USAGE_READ)) throw ApiException.forbidden("This credential may not read usage.");
        if (!principal.isAdmin()) {
            if (clientId.isPresent() && !clientId.get().equals(principal.clientId())) {
                throw ApiException.forbidden("A client can read only its own usage.");
            }
            return Optional.of(principal.clientId());
        }
        if (clientId.isEmpty() && !adminMayOmit) {
            throw ApiException.validation(List.of(new FieldError("client_id",
                    "is required for an admin: name the client whose endpoints to show")));
        }
        return clientId;
    }

    // ---- hourly ----

    public HourlyUsageReport hourly(Optional<String> clientId, int hours) {
        UsageService.Window window = usage.window(hours);
        List<String> buckets = window.hours();
        List<HourlyUsageReport.ClientHours> out = new ArrayList<>();
        if (clientId.isPresent()) {
            Client client = existing(clientId.get());
            out.add(series(client.clientId(), client.name(), buckets, store.hourlyTallies(client.clientId(), buckets)));
        } else {
            Map<String, Map<String, long[]>> all = new TreeMap<>(store.hourlyTalliesAllClients(buckets));
            all.values().removeIf(m -> m.values().stream().mapToLong(t -> t[0]).sum() == 0);
            Map<String, String> names = all.isEmpty() ? Map.of() : clients.names(all.keySet());
            all.forEach((id, counts) -> out.add(series(id, names.getOrDefault(id, id), buckets, counts)));
        }
        return new HourlyUsageReport(window.from().toString(), window.to().toString(), out);
    }

    private static final long[] NO_HITS = new long[5];

    private static HourlyUsageReport.ClientHours series(String id, String name, List<String> buckets, Map<String, long[]> tallies) {
        List<HourlyUsageReport.HourCount> hours = buckets.stream().map(h -> {
            long[] t = tallies.getOrDefault(h, NO_HITS);
            return new HourlyUsageReport.HourCount(h + ":00:00Z", t[0], statuses(t));
        }).toList();
        return new HourlyUsageReport.ClientHours(id, name, hours, hours.stream().mapToLong(HourlyUsageReport.HourCount::count).sum());
    }

    /** {"2xx","3xx","4xx","5xx","unknown"} of a {count, 2xx, 3xx, 4xx, 5xx} tally; they add up to its count. */
    static Map<String, Long> statuses(long[] tally) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        long known = 0;
        for (int i = 0; i < HitOutcome.STATUS_CLASSES.size(); i++) {
            out.put(HitOutcome.STATUS_CLASSES.get(i), tally[i + 1]);
            known += tally[i + 1];
        }
        out.put("unknown", tally[0] - known);
        return out;
    }

    // ---- endpoints ----

    public EndpointUsageReport endpoints(String clientId, int days, int limit) {
        return endpoints(clientId, days, limit, false);
    }

    /** {@code ?group_by=}: absent or {@code endpoint} → false, {@code method} → true, anything else a 400. */
    public static boolean groupByMethod(Optional<String> groupBy) {
        if (groupBy.isEmpty() || groupBy.get().equals("endpoint")) return false;
        if (groupBy.get().equals("method")) return true;
        throw ApiException.validation(List.of(new FieldError("group_by", "must be 'endpoint' or 'method'")));
    }

    /** With {@code byMethod}, rows are (method, template) pairs; else the rows of one template are merged. */
    public EndpointUsageReport endpoints(String clientId, int days, int limit, boolean byMethod) {
        existing(clientId);
        LocalDate today = today();
        List<LocalDate> window = EndpointBreakdown.window(today, days);
        EndpointTally all = EndpointBreakdown.sum(endpoints.days(clientId, window).values());
        Map<RowKey, RowStats> rows = new java.util.HashMap<>();
        all.named().forEach((row, stats) -> {
            RowKey key = RowKey.parse(row);
            if (!byMethod) key = new RowKey(null, key.template());
            rows.computeIfAbsent(key, k -> new RowStats()).addAll(stats);
        });
        Comparator<Map.Entry<RowKey, RowStats>> order = Comparator
                .comparingLong((Map.Entry<RowKey, RowStats> e) -> e.getValue().count()).reversed()
                .thenComparing(e -> e.getKey().template())
                .thenComparing(e -> e.getKey().method(), Comparator.nullsFirst(Comparator.naturalOrder()));
        List<EndpointUsageReport.Row> top = rows.entrySet().stream()
                .filter(e -> e.getValue().count() > 0)
                .sorted(order)
                .limit(limit)
                .map(e -> row(e.getKey(), e.getValue(), byMethod))
                .toList();
        long shown = top.stream().mapToLong(EndpointUsageReport.Row::count).sum();
        return new EndpointUsageReport(window.getFirst().toString(), today.toString(), clientId, top,
                all.total() - shown, all.total());
    }

    private static EndpointUsageReport.Row row(RowKey key, RowStats stats, boolean byMethod) {
        return byMethod
                ? new EndpointUsageReport.MethodEndpointCount(key.method(), key.template(), stats.count(), stats.statuses(),
                        stats.durationMs())
                : new EndpointUsageReport.EndpointCount(key.template(), stats.count(), stats.statuses(), stats.durationMs());
    }

    // ---- export ----

    /** Parses and checks an export request; every broken parameter is reported. */
    public ExportQuery exportQuery(Optional<String> clientId, Map<String, String> params, ExportCursor cursors) {
        List<FieldError> errors = new ArrayList<>();
        String g = params.getOrDefault("granularity", "day");
        ExportQuery.Granularity granularity = switch (g) {
            case "day" -> ExportQuery.Granularity.DAY;
            case "hour" -> ExportQuery.Granularity.HOUR;
            default -> {
                errors.add(new FieldError("granularity", "must be 'day' or 'hour'"));
                yield null;
            }
        };
        int limit = DEFAULT_EXPORT_LIMIT;
        if (params.containsKey("limit")) {
            try {
                limit = Integer.parseInt(params.get("limit").trim());
                if (limit < 1 || limit > MAX_EXPORT_LIMIT) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                errors.add(new FieldError("limit", "must be an integer from 1 to " + MAX_EXPORT_LIMIT));
            }
        }
        if (granularity == null) throw ApiException.validation(errors);
        List<String> periods = granularity == ExportQuery.Granularity.DAY
                ? dayPeriods(params.get("from"), params.get("to"), errors)
                : hourPeriods(params.get("from"), params.get("to"), errors);
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        ExportQuery query = new ExportQuery(clientId, granularity, periods.getFirst(), periods.getLast(), periods, limit,
                Optional.empty());
        String cursor = params.get("cursor");
        if (cursor == null) return query;
        return new ExportQuery(clientId, granularity, query.from(), query.to(), periods, limit,
                Optional.of(cursors.decode(query, cursor)));
    }

    private List<String> dayPeriods(String fromRaw, String toRaw, List<FieldError> errors) {
        LocalDate to = toRaw == null ? today() : parseDate("to", toRaw, errors);
        LocalDate from = fromRaw == null ? (to == null ? null : to.minusDays(6)) : parseDate("from", fromRaw, errors);
        if (from == null || to == null) return List.of();
        if (from.isAfter(to)) {
            errors.add(new FieldError("from", "must not be after 'to'"));
            return List.of();
        }
        if (ChronoUnit.DAYS.between(from, to) + 1 > MAX_EXPORT_DAYS) {
            errors.add(new FieldError("to", "the range holds at most " + MAX_EXPORT_DAYS + " days"));
            return List.of();
        }
        List<String> days = new ArrayList<>();
        for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) days.add(d.toString());
        return days;
    }

    private List<String> hourPeriods(String fromRaw, String toRaw, List<FieldError> errors) {
        Instant to = toRaw == null ? clock.instant().truncatedTo(ChronoUnit.HOURS) : parseHour("to", toRaw, errors);
        Instant from = fromRaw == null ? (to == null ? null : to.minus(23, ChronoUnit.HOURS)) : parseHour("from", fromRaw, errors);
        if (from == null || to == null) return List.of();
        if (from.isAfter(to)) {
            errors.add(new FieldError("from", "must not be after 'to'"));
            return List.of();
        }
        if (ChronoUnit.HOURS.between(from, to) + 1 > MAX_EXPORT_HOURS) {
            errors.add(new FieldError("to", "the range holds at most " + MAX_EXPORT_HOURS + " hours"));
            return List.of();
        }
        List<String> hours = new ArrayList<>();
        for (Instant h = from; !h.isAfter(to); h = h.plus(1, ChronoUnit.HOURS)) hours.add(h.toString());
        return hours;
    }

    private static LocalDate parseDate(String field, String raw, List<FieldError> errors) {
        try {
            return LocalDate.parse(raw.trim());
        } catch (DateTimeParseException e) {
            errors.add(new FieldError(field, "must be a date, e.g. 2026-11-26"));
            return null;
        }
    }

    private static Instant parseHour(String field, String raw, List<FieldError> errors) {
        try {
            return OffsetDateTime.parse(raw.trim()).toInstant().truncatedTo(ChronoUnit.HOURS);
        } catch (DateTimeParseException e) {
            errors.add(new FieldError(field, "must be a date-time with an offset, e.g. 2026-11-26T05:00:00Z"));
            return null;
        }
    }

    /** One page of rows, ordered by client_id then period, zero-filled for every client in the page. */
    public ExportPage export(ExportQuery query) {
        boolean daily = query.granularity() == ExportQuery.Granularity.DAY;
        TreeMap<String, Map<String, Long>> counts = new TreeMap<>();
        if (query.clientId().isPresent()) {
            String id = existing(query.clientId().get()).clientId();
            counts.put(id, daily ? byDate(aggregates.dailyCounts(id, dates(query.periods())))
                    : byHour(store.hourlyCounts(id, hourBuckets(query.periods()))));
        } else if (daily) {
            aggregates.dailyCountsAllClients(dates(query.periods())).forEach((id, c) -> counts.put(id, byDate(c)));
        } else {
            store.hourlyCountsAllClients(hourBuckets(query.periods())).forEach((id, c) -> counts.put(id, byHour(c)));
        }
        if (query.clientId().isEmpty()) counts.values().removeIf(m -> m.values().stream().mapToLong(Long::longValue).sum() == 0);
        List<ExportPage.Row> rows = new ArrayList<>();
        ExportPage.Position after = query.after().orElse(null);
        ExportPage.Position last = null;
        boolean more = false;
        outer:
        for (var client : (after == null ? counts : counts.tailMap(after.clientId(), true)).entrySet()) {
            for (String period : query.periods()) {
                if (after != null && client.getKey().equals(after.clientId()) && period.compareTo(after.period()) <= 0) continue;
                if (rows.size() == query.limit()) {
                    more = true;
                    break outer;
                }
                rows.add(new ExportPage.Row(client.getKey(), period, client.getValue().getOrDefault(period, 0L)));
                last = new ExportPage.Position(client.getKey(), period);
            }
        }
        return new ExportPage(query.granularity().wire(), rows, more ? last : null);
    }

    private static List<LocalDate> dates(List<String> periods) {
        return periods.stream().map(LocalDate::parse).toList();
    }

    /** {@code 2026-11-26T05:00:00Z} → the aggregates' {@code 2026-11-26T05}. */
    private static List<String> hourBuckets(List<String> periods) {
        return periods.stream().map(p -> p.substring(0, 13)).toList();
    }

    private static Map<String, Long> byDate(Map<LocalDate, Long> counts) {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((d, n) -> out.put(d.toString(), n));
        return out;
    }

    private static Map<String, Long> byHour(Map<String, Long> counts) {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((h, n) -> out.put(h + ":00:00Z", n));
        return out;
    }

    private Client existing(String clientId) {
        return clients.find(clientId).orElseThrow(() -> ApiException.notFound("No client with that client_id."));
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }

}
