package dev.usagetracker.store;

import dev.usagetracker.http.DependencyFailure;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.Deadline;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitLedger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

/**
 * Exactly-once counting on top of at-least-once delivery (DESIGN.md §3). Parts are grouped by client
 * and written in transactions that hold, per part, its raw-hit item conditional on
 * {@code attribute_not_exists}, plus the summed {@code ADD}s to every daily and hourly aggregate those
 * parts touch. A replayed part cancels the transaction; the cancellation reasons name it, it is set
 * aside as a duplicate and the rest is committed. A commit is all or nothing, so a consumer that dies
 * at any point leaves each part either fully counted or not at all.
 */
public final class DynamoHitLedger implements HitLedger {
    private static final Logger LOG = LoggerFactory.getLogger(DynamoHitLedger.class);
    /** DynamoDB: at most 100 actions and 4 MB per transaction; keep a margin on the size. */
    static final int MAX_TRANSACTION_ITEMS = 100;
    static final int MAX_TRANSACTION_BYTES = 3_500_000;
    static final int MAX_ATTEMPTS = 4;
    private static final Duration HOURLY_TTL = Duration.ofDays(3);
    private static final Set<String> RETRYABLE = Set.of("TransactionConflict", "ThrottlingError",
            "ProvisionedThroughputExceeded", "RequestLimitExceeded", "InternalServerError");

    private final DynamoDbClient dynamo;
    /** Halved when a transaction times out or keeps conflicting, grown on success: adapts to the store's pace. */
    private final java.util.concurrent.atomic.AtomicInteger partsPerTransaction =
            new java.util.concurrent.atomic.AtomicInteger(MAX_TRANSACTION_ITEMS);
    private final String hitsTable;
    private final String usageTable;
    private final UsageKeys keys;
    private final Duration retention;
    /** Null: no erasure guard (tests of the counting alone). */
    private final String clientsTable;
    /**
     * Clock skew tolerated between the function that registered a client and the one that received its
     * hits; far below the erasure delay (ERASURE_DELAY_SECONDS), which separates the hits of an erased
     * client from a new registration of its id.
     */
    static final long CREATION_SKEW_MILLIS = 10_000;
    /** A transaction is sent at most this long after the client rows it relies on were read (bounded guard). */
    static final Duration MAX_ROW_AGE = Duration.ofSeconds(5);
    /** Room between a transaction's latest landing and the erasure's sweep (clock skew, DynamoDB's own queueing). */
    static final Duration GUARD_MARGIN = Duration.ofSeconds(10);
    private static final int MAX_GUARD_ROUNDS = 4;

    /** Zero: every transaction holds a ConditionCheck on the client row (the atomic guard). */
    private final Duration rowAge;
    private final Clock clock;
    private final Mode mode;
    private static final int MAX_RECOUNT_ROUNDS = 8;

    /**
     * {@code HIT_LEDGER}: {@code recount} (default) lets light groups write their raw items with a plain
     * conditional PutItem and recount their aggregates from the raw items (docs/performance.md, issue 28);
     * {@code transaction} writes every group in TransactWriteItems with ADDs, as before.
     */
    public enum Mode {
        TRANSACTION, RECOUNT;

        public static Mode from(Map<String, String> env) {
            String v = env.getOrDefault("HIT_LEDGER", "recount").strip();
            return switch (v) {
                case "recount" -> RECOUNT;
                case "transaction" -> TRANSACTION;
                default -> throw new IllegalArgumentException("HIT_LEDGER must be recount or transaction, not " + v);
            };
        }
    }

    public DynamoHitLedger(DynamoDbClient dynamo, String hitsTable, String usageTable, UsageKeys keys, Duration retention) {
        this(dynamo, hitsTable, usageTable, keys, retention, null);
    }

    /**
     * With {@code clientsTable}, each part is admitted only while its client's row exists, is not
     * {@code erasing}, and was created before the part was received (plus {@link #CREATION_SKEW_MILLIS}),
     * and every transaction holds a ConditionCheck that the row is still the registration the parts were
     * admitted against. Hits of an erased or erasing client are dropped, never resurrected, and an erased
     * id registered again does not inherit them (docs/database.md).
     */
    public DynamoHitLedger(DynamoDbClient dynamo, String hitsTable, String usageTable, UsageKeys keys, Duration retention,
                           String clientsTable) {
        this(dynamo, hitsTable, usageTable, keys, retention, clientsTable, Duration.ZERO, Clock.systemUTC());
    }

    /**
     * The client rows of a batch are read once (one consistent BatchGetItem) and each part is admitted or
     * dropped on its own against its client's row (a redriven part of an erased id never takes the new
     * registration's parts with it). With {@code rowAge} zero, each transaction also holds a
     * ConditionCheck that the row is still the registration that was read (2 WRU per transaction). With a
     * positive {@code rowAge} ({@link #guardWindow}) there is no ConditionCheck: a transaction is sent at
     * most {@code rowAge} after its row was read, lands within the SDK's call timeout, and the erasure
     * sweeps only ERASURE_DELAY_SECONDS after marking the row: whatever such a transaction committed is
     * in the table before the sweep reads it (docs/reliability.md, "Erasure and the hit consumer").
     */
    public DynamoHitLedger(DynamoDbClient dynamo, String hitsTable, String usageTable, UsageKeys keys, Duration retention,
                           String clientsTable, Duration rowAge, Clock clock) {
        this(dynamo, hitsTable, usageTable, keys, retention, clientsTable, rowAge, clock, Mode.TRANSACTION);
    }

    /**
     * With {@link Mode#RECOUNT}, a light group (few parts on a light, recent day: {@link Recount#light})
     * takes the recount path whenever the guard is the bounded row read or absent; with the atomic
     * ConditionCheck guard every group is a transaction, since a plain PutItem cannot check another item.
     */
    public DynamoHitLedger(DynamoDbClient dynamo, String hitsTable, String usageTable, UsageKeys keys, Duration retention,
                           String clientsTable, Duration rowAge, Clock clock, Mode mode) {
        this.mode = mode;
        this.rowAge = rowAge;
        this.clock = clock;
        this.clientsTable = clientsTable;
        this.dynamo = dynamo;
        this.hitsTable = hitsTable;
        this.usageTable = usageTable;
        this.keys = keys;
        this.retention = retention;
    }

    /**
     * The same ledger with another mode. The ingest's SQS-down fallback keeps transactions: a caller waits on
     * it, and one transaction is two calls where the recount path makes six or seven (docs/performance.md).
     */
    public DynamoHitLedger withMode(Mode other) {
        return new DynamoHitLedger(dynamo, hitsTable, usageTable, keys, retention, clientsTable, rowAge, clock, other);
    }

    /**
     * The longest a transaction may follow its row read so that it lands before an erasure sweeps, given
     * the erasure delay and the DynamoDB SDK's call timeout; zero (the atomic guard) when the delay is too
     * short to bound it.
     */
    public static Duration guardWindow(Duration erasureDelay, Duration dynamoCallTimeout) {
        Duration room = erasureDelay.minus(dynamoCallTimeout).minus(GUARD_MARGIN);
        if (room.compareTo(Duration.ofSeconds(1)) < 0) return Duration.ZERO;
        return room.compareTo(MAX_ROW_AGE) < 0 ? room : MAX_ROW_AGE;
    }

    @Override
    public Outcome record(List<HitBatch> parts) {
        return record(parts, Deadline.NONE);
    }

    /**
     * Before each transaction the deadline is asked: once it passes, the parts not yet tried are
     * {@code deferred} (the consumer returns them to the queue), so the invocation ends with everything it
     * committed reported, instead of being stopped mid-batch by its timeout.
     */
    @Override
    public Outcome record(List<HitBatch> parts, Deadline deadline) {
        Map<String, HitBatch> unique = new LinkedHashMap<>();
        parts.forEach(p -> unique.putIfAbsent(p.key(), p)); // SQS may hand us the same message twice
        Map<String, List<HitBatch>> byClient = new LinkedHashMap<>();
        unique.values().forEach(p -> byClient.computeIfAbsent(p.clientId(), c -> new ArrayList<>()).add(p));
        Outcome outcome = new Outcome(new LinkedHashSet<>(), new LinkedHashSet<>(), new LinkedHashSet<>(), new LinkedHashSet<>());
        Map<String, ClientRow> rows;
        try {
            rows = clientsTable == null ? Map.of() : clientRows(byClient.keySet());
        } catch (SdkException e) {
            LOG.warn("client rows of {} part(s) could not be read ({}); leaving them for redelivery", unique.size(),
                    e.getClass().getSimpleName());
            unique.keySet().forEach(outcome.failed()::add);
            return outcome;
        }
        Map<String, List<HitBatch>> admitted = new LinkedHashMap<>();
        byClient.forEach((client, group) -> admitted.put(client, admitted(group, rows.get(client), outcome)));
        Map<String, long[]> seen = recountCandidates(admitted);
        boolean reachable = true;
        for (var group : admitted.entrySet()) {
            ClientRow row = rows.get(group.getKey());
            List<HitBatch> admittedParts = group.getValue();
            if (admittedParts.isEmpty()) continue;
            if (!reachable) {
                // DynamoDB did not answer: do not spend another timeout per client; SQS redelivers.
                admittedParts.forEach(p -> outcome.failed().add(p.key()));
                continue;
            }
            if (seen != null && light(group.getKey(), admittedParts, seen)) {
                reachable = recount(admittedParts, row, seen, outcome, deadline);
                continue;
            }
            for (List<HitBatch> chunk : chunks(admittedParts)) {
                if (reachable) {
                    reachable = commit(chunk, row, outcome, deadline);
                } else {
                    chunk.forEach(p -> outcome.failed().add(p.key()));
                }
            }
        }
        return outcome;
    }

    // --- the recount path (issue 28) ----------------------------------------------------------------

    /** The recount path needs the bounded guard or none: a plain PutItem cannot hold a ConditionCheck. */
    private boolean recountAllowed() {
        return mode == Mode.RECOUNT && (clientsTable == null || rowAge.isPositive());
    }

    /**
     * The aggregates of every group that may take the recount path, read in one consistent BatchGetItem
     * per 100 keys (pk → tally, null when the item is absent): how heavy each day is, and the values each
     * recount's first conditional write compares with (read before its raw puts and its query). Null when
     * no group can take the path or the read failed (every group then takes a transaction).
     */
    private Map<String, long[]> recountCandidates(Map<String, List<HitBatch>> admitted) {
        if (!recountAllowed()) return null;
        Set<String> pks = new LinkedHashSet<>();
        for (var group : admitted.entrySet()) {
            List<HitBatch> parts = group.getValue();
            if (parts.isEmpty() || parts.size() > Recount.MAX_LIGHT_PARTS) continue;
            for (HitBatch part : parts) {
                for (String period : aggregateKeys(part)) pks.add(periodPk(group.getKey(), period));
            }
        }
        if (pks.isEmpty()) return null;
        try {
            return aggregates(pks);
        } catch (SdkException e) {
            LOG.warn("aggregates could not be read ({}); this batch is written in transactions", e.getClass().getSimpleName());
            return null;
        }
    }

    private boolean light(String clientId, List<HitBatch> parts, Map<String, long[]> seen) {
        Set<String> days = new LinkedHashSet<>();
        for (HitBatch part : parts) {
            for (String period : aggregateKeys(part)) {
                if (!seen.containsKey(periodPk(clientId, period))) return false;
                if (isDay(period)) days.add(period);
            }
        }
        long dayHits = 0;
        for (String day : days) {
            long[] t = seen.get(UsageKeys.dailyPk(clientId, day));
            if (t != null) dayHits += t[0];
        }
        return Recount.light(parts, dayHits, days, clock.instant());
    }

    private enum Settled { COUNTED, DROPPED, FAILED }

    /**
     * A light group: each part's raw item is a plain PutItem conditional on {@code attribute_not_exists}
     * (1 WRU for ≤ 1 KB; a failed condition is a replay), then every aggregate the parts touch is
     * recounted from the raw items and written with a compare-and-set on the value read before ({@link
     * Recount}). Replays recount too: a part whose raw item landed before its consumer died is counted by
     * its redelivery. A part is reported done only once its aggregates account for it.
     */
    private boolean recount(List<HitBatch> parts, ClientRow firstRow, Map<String, long[]> seen, Outcome outcome,
                            Deadline deadline) {
        if (!deadline.allowsStart()) {
            parts.forEach(p -> outcome.deferred().add(p.key()));
            return true;
        }
        ClientRow row = firstRow;
        List<HitBatch> written = new ArrayList<>();
        Set<String> replays = new HashSet<>();
        try {
            for (HitBatch part : parts) {
                row = fresh(row);
                if (row != null && !row.admits(part)) {
                    outcome.duplicates().add(part.key());
                    continue;
                }
                try {
                    dynamo.putItem(r -> r.tableName(hitsTable).item(rawItem(part)).conditionExpression("attribute_not_exists(pk)"));
                } catch (ConditionalCheckFailedException replay) {
                    replays.add(part.key());
                }
                written.add(part);
            }
            if (written.isEmpty()) return true;
            Settled settled = settle(written, row, seen);
            for (HitBatch part : written) {
                switch (settled) {
                    case COUNTED -> (replays.contains(part.key()) ? outcome.duplicates() : outcome.committed()).add(part.key());
                    case DROPPED -> outcome.duplicates().add(part.key());
                    case FAILED -> outcome.failed().add(part.key());
                }
            }
            if (settled == Settled.DROPPED) {
                LOG.info("dropped {} part(s) of a client erased or being erased while they were written", written.size());
            }
            return true;
        } catch (SdkException e) {
            // A raw item that may have landed is a replay on redelivery, which recounts.
            LOG.warn("recount of {} part(s) failed ({}: {}); leaving them for redelivery", parts.size(), e.getClass().getSimpleName(),
                    e.getMessage());
            parts.stream().filter(p -> !outcome.duplicates().contains(p.key())).forEach(p -> outcome.failed().add(p.key()));
            return !DependencyFailure.isUnreachable(e);
        }
    }

    /** The row as the bounded guard needs it before a write: read again once older than {@code rowAge}. */
    private ClientRow fresh(ClientRow row) {
        if (row == null || !rowAge.isPositive() || clock.millis() - row.readAtMillis() <= rowAge.toMillis()) return row;
        return readRow(row.clientId());
    }

    private Settled settle(List<HitBatch> written, ClientRow firstRow, Map<String, long[]> seen) {
        String clientId = written.getFirst().clientId();
        Set<String> pending = new LinkedHashSet<>();
        written.forEach(p -> pending.addAll(aggregateKeys(p)));
        Map<String, long[]> current = new LinkedHashMap<>();
        for (String period : pending) current.put(period, seen.get(periodPk(clientId, period)));
        ClientRow row = firstRow;
        for (int round = 0; round < MAX_RECOUNT_ROUNDS; round++) {
            if (round > 0) {
                backoff(Math.min(round, MAX_ATTEMPTS));
                // Read the values before counting again: the compare-and-set is sound only in that order.
                current = new LinkedHashMap<>();
                Map<String, long[]> read = aggregates(pending.stream().map(p -> periodPk(clientId, p)).toList());
                for (String period : pending) current.put(period, read.get(periodPk(clientId, period)));
            }
            Map<String, long[]> fresh = count(clientId, row, pending);
            for (String period : List.copyOf(pending)) {
                long[] before = current.get(period);
                switch (Recount.decide(before, fresh.get(period))) {
                    case DONE -> pending.remove(period);
                    case BEHIND -> {
                        LOG.warn("recount of {} found fewer hits than its aggregate holds; left as it is", period);
                        pending.remove(period);
                    }
                    case WRITE -> {
                        row = fresh(row);
                        if (row != null && written.stream().noneMatch(row::admits)) return Settled.DROPPED;
                        try {
                            writeAggregate(clientId, period, before, fresh.get(period));
                            pending.remove(period);
                        } catch (ConditionalCheckFailedException moved) {
                            // Another consumer wrote it since it was read: read, count and compare again.
                        }
                    }
                }
            }
            if (pending.isEmpty()) return Settled.COUNTED;
        }
        LOG.warn("aggregates {} kept moving during {} recounts; leaving the parts for redelivery", pending, MAX_RECOUNT_ROUNDS);
        return Settled.FAILED;
    }

    /**
     * The tallies of {@code periods} from the client's raw items: one strongly consistent Query per
     * received-day partition that can hold their hits ({@link Recount#partitions}), items of an erased
     * namesake left out.
     */
    private Map<String, long[]> count(String clientId, ClientRow row, Set<String> periods) {
        Map<java.time.LocalDate, String> from = new java.util.TreeMap<>();
        for (String period : periods) {
            String day = period.substring(0, 10);
            Instant start = Recount.start(day);
            for (java.time.LocalDate partition : Recount.partitions(day, clock.instant())) {
                // Only the last minutes of a partition before the day can hold its hits; a second of slack for
                // sort keys whose milliseconds are zero (printed without a fraction).
                String bound = partition.isBefore(LocalDate.parse(day))
                        ? start.minus(Recount.EARLY).minusSeconds(1).toString() : "";
                from.merge(partition, bound, (a, b) -> a.compareTo(b) <= 0 ? a : b);
            }
        }
        Long created = row == null ? null : row.createdMs();
        List<HitBatch.PackedHit> hits = new ArrayList<>();
        for (var e : from.entrySet()) {
            Map<String, String> names = new LinkedHashMap<>(Map.of("#pk", "pk"));
            Map<String, AttributeValue> values = new LinkedHashMap<>(Map.of(":pk", AttributeValue.fromS(clientId + "#" + e.getKey())));
            String condition = "#pk = :pk";
            if (!e.getValue().isEmpty()) {
                names.put("#sk", "sk"); // DynamoDB refuses a name the expression does not use
                values.put(":from", AttributeValue.fromS(e.getValue()));
                condition += " AND #sk >= :from";
            }
            Map<String, AttributeValue> start = null;
            do {
                var page = dynamo.query(QueryRequest.builder().tableName(hitsTable).consistentRead(true)
                        .keyConditionExpression(condition).expressionAttributeNames(names).expressionAttributeValues(values)
                        // Whole items: DynamoDB charges their full size whatever is projected, and so does DynamoCapacity.
                        .exclusiveStartKey(start).build());
                for (Map<String, AttributeValue> item : page.items()) {
                    if (!Recount.ofThisRegistration(Recount.receivedAt(item.get("sk").s()), created, CREATION_SKEW_MILLIS)) continue;
                    AttributeValue packed = item.get("hits");
                    if (packed != null && packed.s() != null) hits.addAll(packed(packed.s()));
                }
                start = page.lastEvaluatedKey();
            } while (start != null && !start.isEmpty());
        }
        return Recount.tally(hits, periods);
    }

    private static final com.fasterxml.jackson.core.type.TypeReference<List<HitBatch.PackedHit>> PACKED =
            new com.fasterxml.jackson.core.type.TypeReference<>() {};

    private static List<HitBatch.PackedHit> packed(String json) {
        try {
            return Json.MAPPER.readValue(json, PACKED);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Absolute values, conditional on the count read before the query (absent: the item still absent). */
    private void writeAggregate(String clientId, String period, long[] before, long[] n) {
        String shard = keys.shardOf(clientId);
        StringBuilder set = new StringBuilder("SET #count = :n, client_id = :c, #bucket = :b, expires_at = :e");
        Map<String, AttributeValue> values = aggregateValues(clientId, keys.bucket(period, shard), expiresAt(period), n, set, " = :");
        String condition;
        if (before == null) {
            condition = "attribute_not_exists(pk)";
        } else {
            condition = "#count = :seen";
            values.put(":seen", AttributeValue.fromN(Long.toString(before[0])));
        }
        Map<String, String> names = Map.of("#count", "count", "#bucket", isDay(period) ? "day_bucket" : "hour_bucket");
        dynamo.updateItem(u -> u.tableName(usageTable).key(Map.of("pk", AttributeValue.fromS(periodPk(clientId, period))))
                .updateExpression(set.toString()).conditionExpression(condition)
                .expressionAttributeNames(names).expressionAttributeValues(values));
    }

    /**
     * An aggregate write's values (count, client, bucket, expiry, each non-zero status class), appending each
     * status class to {@code expression} as {@code ", s2" + assign + "s2"}: the recount's SET and the transaction's ADD.
     */
    private static Map<String, AttributeValue> aggregateValues(String clientId, String bucket, Instant expiresAt, long[] n,
                                                               StringBuilder expression, String assign) {
        Map<String, AttributeValue> values = new LinkedHashMap<>(Map.of(
                ":n", AttributeValue.fromN(Long.toString(n[0])),
                ":c", AttributeValue.fromS(clientId),
                ":b", AttributeValue.fromS(bucket),
                ":e", AttributeValue.fromN(Long.toString(expiresAt.getEpochSecond()))));
        for (int i = 0; i < StatusTally.ATTRIBUTES.size(); i++) {
            if (n[i + 1] == 0) continue;
            String a = StatusTally.ATTRIBUTES.get(i);
            expression.append(", ").append(a).append(assign).append(a);
            values.put(":" + a, AttributeValue.fromN(Long.toString(n[i + 1])));
        }
        return values;
    }

    /** Consistent BatchGetItem of aggregate items by pk: pk → {count, 2xx..5xx}, null when absent. */
    private Map<String, long[]> aggregates(java.util.Collection<String> pks) {
        Map<String, long[]> found = new java.util.HashMap<>();
        List<String> all = new ArrayList<>(pks);
        for (int from = 0; from < all.size(); from += 100) {
            List<Map<String, AttributeValue>> keyList = all.subList(from, Math.min(all.size(), from + 100)).stream()
                    .map(pk -> Map.of("pk", AttributeValue.fromS(pk))).toList();
            Map<String, KeysAndAttributes> request = Map.of(usageTable, KeysAndAttributes.builder().keys(keyList)
                    .consistentRead(true).projectionExpression("pk, #c, s2, s3, s4, s5")
                    .expressionAttributeNames(Map.of("#c", "count")).build());
            for (int attempt = 0; !request.isEmpty(); attempt++) {
                if (attempt > 0) backoff(Math.min(attempt, MAX_ATTEMPTS));
                Map<String, KeysAndAttributes> asked = request;
                var response = dynamo.batchGetItem(r -> r.requestItems(asked));
                response.responses().getOrDefault(usageTable, List.of())
                        .forEach(item -> found.put(item.get("pk").s(), StatusTally.of(item)));
                request = response.hasUnprocessedKeys() ? response.unprocessedKeys() : Map.of();
                if (attempt >= 8 && !request.isEmpty()) throw SdkException.create("aggregates left unprocessed", null);
            }
        }
        Map<String, long[]> result = new java.util.HashMap<>();
        for (String pk : pks) result.put(pk, found.get(pk));
        return result;
    }

    private static boolean isDay(String period) {
        return period.length() == 10;
    }

    private static String periodPk(String clientId, String period) {
        return isDay(period) ? UsageKeys.dailyPk(clientId, period) : UsageKeys.hourlyPk(clientId, period);
    }

    private Instant expiresAt(String period) {
        return isDay(period)
                ? LocalDate.parse(period).atStartOfDay().toInstant(ZoneOffset.UTC).plus(retention).plus(Duration.ofDays(1))
                : Instant.parse(period + ":00:00Z").plus(HOURLY_TTL);
    }

    /**
     * A client row as the guard needs it, and when it was read. {@code absent}: no row, or one without a
     * name (a guard item of a rotated key never counts as a client).
     */
    record ClientRow(String clientId, boolean absent, boolean erasing, Long createdMs, long readAtMillis) {
        /** Hits received before this registration (beyond the clock skew) belong to an erased namesake. */
        boolean admits(HitBatch part) {
            return !absent && !erasing && (createdMs == null || createdMs <= part.receivedAt().toEpochMilli() + CREATION_SKEW_MILLIS);
        }
    }

    /** Parts the row admits; the others (an erased, erasing or newer namesake) are dropped, reported done. */
    private List<HitBatch> admitted(List<HitBatch> parts, ClientRow row, Outcome outcome) {
        if (row == null) return parts;
        List<HitBatch> admitted = new ArrayList<>();
        for (HitBatch part : parts) {
            if (row.admits(part)) {
                admitted.add(part);
            } else {
                outcome.duplicates().add(part.key());
            }
        }
        if (admitted.size() < parts.size()) {
            LOG.info("dropped {} part(s) of a client that is erased, being erased or registered after they were received",
                    parts.size() - admitted.size());
        }
        return admitted;
    }

    /** One consistent BatchGetItem per 100 clients: the only read the guard makes per consumer batch. */
    private Map<String, ClientRow> clientRows(Set<String> clientIds) {
        Map<String, ClientRow> rows = new LinkedHashMap<>();
        List<String> ids = new ArrayList<>(clientIds);
        for (int from = 0; from < ids.size(); from += 100) {
            List<Map<String, AttributeValue>> keys = ids.subList(from, Math.min(ids.size(), from + 100)).stream()
                    .map(id -> Map.of("client_id", AttributeValue.fromS(id))).toList();
            Map<String, KeysAndAttributes> request = Map.of(clientsTable, KeysAndAttributes.builder().keys(keys)
                    .consistentRead(true).projectionExpression("client_id, #n, #st, created_ms")
                    .expressionAttributeNames(Map.of("#n", "name", "#st", "status")).build());
            long readAt = clock.millis();
            for (int attempt = 0; !request.isEmpty(); attempt++) {
                if (attempt > 0) backoff(Math.min(attempt, MAX_ATTEMPTS));
                Map<String, KeysAndAttributes> asked = request;
                var response = dynamo.batchGetItem(r -> r.requestItems(asked));
                response.responses().getOrDefault(clientsTable, List.of())
                        .forEach(item -> rows.put(item.get("client_id").s(), row(item.get("client_id").s(), item, readAt)));
                request = response.hasUnprocessedKeys() ? response.unprocessedKeys() : Map.of();
                if (attempt >= 8 && !request.isEmpty()) throw SdkException.create("client rows left unprocessed", null);
            }
        }
        long readAt = clock.millis();
        for (String id : clientIds) rows.putIfAbsent(id, new ClientRow(id, true, false, null, readAt));
        return rows;
    }

    private ClientRow readRow(String clientId) {
        long readAt = clock.millis();
        var item = dynamo.getItem(r -> r.tableName(clientsTable).consistentRead(true)
                .key(Map.of("client_id", AttributeValue.fromS(clientId)))
                .projectionExpression("client_id, #n, #st, created_ms")
                .expressionAttributeNames(Map.of("#n", "name", "#st", "status"))).item();
        return row(clientId, item, readAt);
    }

    private static ClientRow row(String clientId, Map<String, AttributeValue> item, long readAt) {
        if (item == null || item.isEmpty() || !item.containsKey("name")) return new ClientRow(clientId, true, false, null, readAt);
        boolean erasing = item.containsKey("status") && "erasing".equals(item.get("status").s());
        Long created = item.containsKey("created_ms") ? Long.valueOf(item.get("created_ms").n()) : null;
        return new ClientRow(clientId, false, erasing, created, readAt);
    }

    /** Splits one client's parts so each transaction stays within DynamoDB's item and size limits. */
    List<List<HitBatch>> chunks(List<HitBatch> group) {
        List<List<HitBatch>> chunks = new ArrayList<>();
        List<HitBatch> current = new ArrayList<>();
        Set<String> aggregates = new HashSet<>();
        long bytes = 0;
        for (HitBatch part : group) {
            Set<String> touched = aggregateKeys(part);
            Set<String> union = new HashSet<>(aggregates);
            union.addAll(touched);
            long size = rawItemBytes(part);
            if (!current.isEmpty() && (current.size() + 1 + union.size() + guardItems() > MAX_TRANSACTION_ITEMS
                    || bytes + size > MAX_TRANSACTION_BYTES || current.size() >= partsPerTransaction.get())) {
                chunks.add(current);
                current = new ArrayList<>();
                union = new HashSet<>(touched);
                bytes = 0;
            }
            current.add(part);
            aggregates = union;
            bytes += size;
        }
        if (!current.isEmpty()) chunks.add(current);
        return chunks;
    }

    private int guardItems() {
        return clientsTable == null || rowAge.isPositive() ? 0 : 1;
    }

    /**
     * Returns false when DynamoDB could not be reached, so the caller stops trying for this batch. A
     * transaction that timed out, or kept meeting conflicts or throttling, is tried again in halves (down to
     * single parts) before its parts are given back: a hot client's large transactions are what time out
     * and conflict, and retrying them whole only repeats that.
     */
    private boolean commit(List<HitBatch> chunk, ClientRow firstRow, Outcome outcome, Deadline deadline) {
        List<HitBatch> pending = new ArrayList<>(chunk);
        ClientRow row = firstRow;
        int attempt = 0;
        int guardRounds = 0;
        while (!pending.isEmpty()) {
            if (!deadline.allowsStart()) {
                pending.forEach(p -> outcome.deferred().add(p.key()));
                return true;
            }
            try {
                if (row != null && rowAge.isPositive() && clock.millis() - row.readAtMillis() > rowAge.toMillis()) {
                    // Too old to vouch for a transaction that must land before an erasure sweeps: read it again.
                    row = readRow(row.clientId());
                    pending = admitted(pending, row, outcome);
                    if (pending.isEmpty()) return true;
                }
            } catch (SdkException e) {
                LOG.warn("client row could not be read again ({}); leaving {} part(s) for redelivery",
                        e.getClass().getSimpleName(), pending.size());
                pending.forEach(p -> outcome.failed().add(p.key()));
                return !DependencyFailure.isUnreachable(e);
            }
            List<HitBatch> current = List.copyOf(pending);
            ClientRow guard = row;
            try {
                // The SDK retries an attempt that timed out with the same token: if the first one committed,
                // DynamoDB answers success, so the parts are reported committed (and mirrored), not as replays.
                dynamo.transactWriteItems(r -> r.transactItems(transaction(current, guard))
                        .clientRequestToken(UUID.randomUUID().toString()));
                current.forEach(p -> outcome.committed().add(p.key()));
                grow();
                return true;
            } catch (TransactionCanceledException e) {
                if (rowChanged(current, guard, e)) {
                    // Erased, being erased or registered again since the read: decide each part again.
                    if (++guardRounds > MAX_GUARD_ROUNDS) {
                        current.forEach(p -> outcome.failed().add(p.key()));
                        return true;
                    }
                    row = readRow(guard.clientId());
                    pending = admitted(pending, row, outcome);
                    continue;
                }
                List<HitBatch> replayed = replayed(current, e);
                if (!replayed.isEmpty()) {
                    replayed.forEach(p -> outcome.duplicates().add(p.key()));
                    pending.removeAll(replayed);
                    continue;
                }
                if (isRetryable(e) && ++attempt < MAX_ATTEMPTS) {
                    backoff(attempt);
                    continue;
                }
                if (isRetryable(e) && current.size() > 1) return inHalves(current, reasons(e), row, outcome, deadline);
                LOG.warn("transaction of {} part(s) cancelled ({}); leaving them for redelivery", current.size(), reasons(e));
                current.forEach(p -> outcome.failed().add(p.key()));
                return true;
            } catch (SdkException e) {
                // A timeout is a store too slow for this transaction, a refused connection one that is down.
                boolean timedOut = e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException;
                if ((timedOut || !DependencyFailure.isUnreachable(e)) && current.size() > 1) {
                    return inHalves(current, e.getClass().getSimpleName(), row, outcome, deadline);
                }
                // The SDK has already retried with backoff; SQS redelivery is the next, slower retry.
                LOG.warn("transaction of {} part(s) failed ({}); leaving them for redelivery", current.size(),
                        e.getClass().getSimpleName());
                current.forEach(p -> outcome.failed().add(p.key()));
                return !DependencyFailure.isUnreachable(e);
            }
        }
        return true;
    }

    private boolean atomicGuard(ClientRow row) {
        return row != null && !rowAge.isPositive();
    }

    /**
     * Each half is a transaction of its own (its own aggregate ADDs): a commit stays all or nothing per
     * half. Parts that the failed attempt committed after all come back as replays and are dropped.
     */
    private boolean inHalves(List<HitBatch> parts, String why, ClientRow row, Outcome outcome, Deadline deadline) {
        int half = parts.size() / 2;
        // Later transactions of this container start smaller; successes grow them back (grow()).
        partsPerTransaction.accumulateAndGet(half, Math::min);
        LOG.info("transaction of {} part(s) failed ({}); trying it as two of {} and {}", parts.size(), why, half,
                parts.size() - half);
        if (!commit(parts.subList(0, half), row, outcome, deadline)) {
            parts.subList(half, parts.size()).forEach(p -> outcome.failed().add(p.key()));
            return false;
        }
        return commit(parts.subList(half, parts.size()), row, outcome, deadline);
    }

    /** After a success the cap on parts per transaction grows by a quarter again, up to DynamoDB's limit. */
    private void grow() {
        partsPerTransaction.updateAndGet(n -> Math.min(MAX_TRANSACTION_ITEMS, n + Math.max(1, n / 4)));
    }

    /** The row check follows the raw-hit items: reason {@code parts.size()} is its. */
    private boolean rowChanged(List<HitBatch> parts, ClientRow row, TransactionCanceledException e) {
        if (!atomicGuard(row)) return false;
        List<CancellationReason> reasons = e.hasCancellationReasons() ? e.cancellationReasons() : List.of();
        if (reasons.size() > parts.size()) return "ConditionalCheckFailed".equals(reasons.get(parts.size()).code());
        // Without reasons (some emulators), read the row.
        return !sameRegistration(readRow(row.clientId()), row);
    }

    private static boolean sameRegistration(ClientRow a, ClientRow b) {
        return a.absent() == b.absent() && a.erasing() == b.erasing() && java.util.Objects.equals(a.createdMs(), b.createdMs());
    }

    /** Raw-hit items come first in the transaction, so reason i belongs to part i. */
    private List<HitBatch> replayed(List<HitBatch> parts, TransactionCanceledException e) {
        List<CancellationReason> reasons = e.hasCancellationReasons() ? e.cancellationReasons() : List.of();
        List<HitBatch> replayed = new ArrayList<>();
        if (reasons.size() >= parts.size()) {
            for (int i = 0; i < parts.size(); i++) {
                if ("ConditionalCheckFailed".equals(reasons.get(i).code())) replayed.add(parts.get(i));
            }
            return replayed;
        }
        // Without reasons (some emulators), ask the table which raw items exist already.
        for (HitBatch part : parts) {
            var item = dynamo.getItem(r -> r.tableName(hitsTable).consistentRead(true).key(rawKey(part))).item();
            if (item != null && !item.isEmpty()) replayed.add(part);
        }
        return replayed;
    }

    private List<TransactWriteItem> transaction(List<HitBatch> parts, ClientRow row) {
        List<TransactWriteItem> items = new ArrayList<>();
        Map<String, long[]> daily = new LinkedHashMap<>();
        Map<String, long[]> hourly = new LinkedHashMap<>();
        String clientId = parts.getFirst().clientId();
        for (HitBatch part : parts) {
            items.add(TransactWriteItem.builder().put(p -> p.tableName(hitsTable).item(rawItem(part))
                    .conditionExpression("attribute_not_exists(pk)")).build());
            for (HitBatch.PackedHit hit : part.hits()) {
                StatusTally.add(daily.computeIfAbsent(UsageKeys.day(hit.timestamp()), k -> StatusTally.empty()), hit.s());
                StatusTally.add(hourly.computeIfAbsent(UsageKeys.hour(hit.timestamp()), k -> StatusTally.empty()), hit.s());
            }
        }
        if (atomicGuard(row)) {
            // Still the registration that was read, and not being erased (its parts were admitted against it).
            String created = row.createdMs() == null ? "attribute_not_exists(created_ms)" : "created_ms = :created";
            Map<String, AttributeValue> values = new LinkedHashMap<>(Map.of(":erasing", AttributeValue.fromS("erasing")));
            if (row.createdMs() != null) values.put(":created", AttributeValue.fromN(Long.toString(row.createdMs())));
            items.add(TransactWriteItem.builder().conditionCheck(c -> c.tableName(clientsTable)
                    .key(Map.of("client_id", AttributeValue.fromS(clientId)))
                    .conditionExpression("attribute_exists(#n) AND (attribute_not_exists(#st) OR #st <> :erasing) AND " + created)
                    .expressionAttributeNames(Map.of("#n", "name", "#st", "status"))
                    .expressionAttributeValues(values))
                    .build());
        }
        String shard = keys.shardOf(clientId);
        daily.forEach((day, n) -> items.add(aggregate(UsageKeys.dailyPk(clientId, day), clientId, "day_bucket",
                keys.bucket(day, shard), n, expiresAt(day))));
        hourly.forEach((hour, n) -> items.add(aggregate(UsageKeys.hourlyPk(clientId, hour), clientId, "hour_bucket",
                keys.bucket(hour, shard), n, expiresAt(hour))));
        return items;
    }

    /**
     * {@code n[0]} hits, {@code n[1..4]} of them with a 2xx..5xx status: the classes are attributes of the
     * same item ({@link StatusTally}), a few bytes that keep it far below 1 KB, so they cost no write unit.
     */
    private TransactWriteItem aggregate(String pk, String clientId, String bucketAttribute, String bucket, long[] n,
                                        Instant expiresAt) {
        StringBuilder add = new StringBuilder("ADD #count :n");
        Map<String, AttributeValue> values = aggregateValues(clientId, bucket, expiresAt, n, add, " :");
        return TransactWriteItem.builder().update(u -> u.tableName(usageTable)
                .key(Map.of("pk", AttributeValue.fromS(pk)))
                .updateExpression(add + " SET client_id = :c, #bucket = :b, expires_at = :e")
                .expressionAttributeNames(Map.of("#count", "count", "#bucket", bucketAttribute))
                .expressionAttributeValues(values)).build();
    }

    private Map<String, AttributeValue> rawKey(HitBatch part) {
        return Map.of("pk", AttributeValue.fromS(part.clientId() + "#" + UsageKeys.day(part.receivedAt())),
                "sk", AttributeValue.fromS(part.receivedAt().truncatedTo(ChronoUnit.MILLIS) + "#" + part.key()));
    }

    private Map<String, AttributeValue> rawItem(HitBatch part) {
        Map<String, AttributeValue> item = new LinkedHashMap<>(rawKey(part));
        item.put("client_id", AttributeValue.fromS(part.clientId()));
        item.put("batch_id", AttributeValue.fromS(part.batchId()));
        item.put("part", AttributeValue.fromN(Integer.toString(part.part())));
        item.put("first_event", AttributeValue.fromN(Integer.toString(part.offset())));
        item.put("n", AttributeValue.fromN(Integer.toString(part.hits().size())));
        // Packed: one item per request part, not per hit, is what keeps a batch under 0.3 WRU per hit.
        item.put("hits", AttributeValue.fromS(new String(Json.write(part.hits()), StandardCharsets.UTF_8)));
        item.put("expires_at", AttributeValue.fromN(Long.toString(part.receivedAt().plus(retention).getEpochSecond())));
        return item;
    }

    private static long rawItemBytes(HitBatch part) {
        long bytes = 300;
        for (HitBatch.PackedHit hit : part.hits()) {
            bytes += 30 + hit.ip().length() + 3L * hit.ep().length() + (hit.m() == null ? 0 : 8 + hit.m().length())
                    + (hit.s() == null ? 0 : 8) + (hit.d() == null ? 0 : 16);
        }
        return bytes;
    }

    private static Set<String> aggregateKeys(HitBatch part) {
        Set<String> keys = new HashSet<>();
        for (HitBatch.PackedHit hit : part.hits()) {
            keys.add(UsageKeys.day(hit.timestamp()));
            keys.add(UsageKeys.hour(hit.timestamp()));
        }
        return keys;
    }

    private static boolean isRetryable(TransactionCanceledException e) {
        return e.hasCancellationReasons() && e.cancellationReasons().stream()
                .anyMatch(r -> r.code() != null && RETRYABLE.contains(r.code()));
    }

    private static String reasons(TransactionCanceledException e) {
        return e.hasCancellationReasons()
                ? e.cancellationReasons().stream().map(r -> String.valueOf(r.code())).distinct().toList().toString()
                : "no reasons";
    }

    private static void backoff(int attempt) {
        long cap = Math.min(1_000, 25L << attempt);
        try {
            // jitter: conflicting writers spread out; not ThreadLocalRandom, whose seed a SnapStart snapshot would share
            Thread.sleep(dev.usagetracker.config.Entropy.random().nextLong(cap / 2, cap + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
