package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.config.Config;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitConsumer;
import dev.usagetracker.ingest.HitConsumer.QueuedMessage;
import dev.usagetracker.store.DynamoAnalyticsStore;
import dev.usagetracker.store.DynamoHitLedger;
import dev.usagetracker.store.DynamoUsageStore;
import dev.usagetracker.store.UsageKeys;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/**
 * Issue 28: the Usage table's by_day/by_hour indexes project KEYS_ONLY (template parameters
 * UsageHourIndexProjection, UsageDayIndexProjection), so a count change writes no index entry; stacks and local states created before
 * keep INCLUDE [count]. The all-clients readers (top clients, the admin's daily, analytics) take only the
 * keys from the index and the counts from the table, so both projections give the same answers after
 * updates — and an index that answers with more (or stale) attributes than its projection changes nothing.
 */
@ExtendWith(TestStack.Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsageIndexProjectionIT {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private static final Instant HOUR_AGO = NOW.minus(Duration.ofHours(1));

    private TestStack stack;
    private UsageKeys keys;
    private final Map<String, ResourceBootstrap> byProjection = new LinkedHashMap<>();
    /** client → hour → {count, 2xx, 3xx, 4xx, 5xx} as sent. */
    private final Map<String, Map<String, long[]>> sent = new HashMap<>();

    @BeforeAll
    void createBothProjectionsAndCountTheSameHitsInEach(TestStack stack) {
        this.stack = stack;
        Config config = stack.config();
        this.keys = new UsageKeys(config.usageShards());
        SamTemplate template = SamTemplate.load(TestStack.PROJECT_ROOT.resolve("template.yaml"));
        String run = UUID.randomUUID().toString().substring(0, 6);
        // no override: the template's default, what a new stack gets
        byProjection.put("KEYS_ONLY", bootstrap(template, "keys-" + run + "-", Map.of("Stage", "keys")));
        byProjection.put("INCLUDE", bootstrap(template, "incl-" + run + "-", Map.of("Stage", "incl",
                "UsageHourIndexProjection", "INCLUDE", "UsageDayIndexProjection", "INCLUDE")));

        List<String> clients = List.of(client(), client(), client());
        List<List<QueuedMessage>> deliveries = new ArrayList<>();
        // Three deliveries: the first creates each aggregate, the next two only change counts (and status classes).
        for (int delivery = 0; delivery < 3; delivery++) {
            List<QueuedMessage> batch = new ArrayList<>();
            for (int c = 0; c < clients.size(); c++) {
                batch.add(message(part(clients.get(c), NOW, 1 + c + delivery, 200 + 100 * ((c + delivery) % 4))));
                if (c != 1) batch.add(message(part(clients.get(c), HOUR_AGO, 2 + delivery, 404)));
            }
            deliveries.add(batch);
        }
        for (var e : byProjection.entrySet()) {
            // both ledger paths write the aggregates: recount SETs them, transactions ADD to them
            for (DynamoHitLedger.Mode mode : DynamoHitLedger.Mode.values()) {
                HitConsumer consumer = new HitConsumer(new DynamoHitLedger(stack.dynamo(), e.getValue().ref("HitsTable"),
                        e.getValue().ref("UsageTable"), keys, Duration.ofDays(config.retentionDays()), null, Duration.ZERO,
                        Clock.systemUTC(), mode));
                for (int d = mode.ordinal(); d < deliveries.size(); d += DynamoHitLedger.Mode.values().length) {
                    assertThat(consumer.process(deliveries.get(d))).as(e.getKey() + " " + mode).isEmpty();
                }
            }
        }
        for (List<QueuedMessage> batch : deliveries) {
            for (QueuedMessage m : batch) {
                HitBatch part = Json.read(m.body().getBytes(StandardCharsets.UTF_8), HitBatch.class);
                for (HitBatch.PackedHit h : part.hits()) {
                    long[] t = sent.computeIfAbsent(part.clientId(), x -> new HashMap<>())
                            .computeIfAbsent(UsageKeys.hour(Instant.ofEpochMilli(h.t())), x -> new long[5]);
                    t[0]++;
                    t[h.s() / 100 - 1]++;
                }
            }
        }
    }

    @Test
    void theBootstrapCreatesTheProjectionTheTemplateParameterSays() {
        for (var e : byProjection.entrySet()) {
            for (String index : List.of("by_day", "by_hour")) {
                assertThat(projection(e.getValue().ref("UsageTable"), index)).as(index).isEqualTo(e.getKey());
            }
        }
    }

    @Test
    void allClientsReadsGiveTheTablesCountsThroughEitherProjection() {
        List<String> hours = List.of(UsageKeys.hour(HOUR_AGO), UsageKeys.hour(NOW));
        LocalDate today = LocalDate.ofInstant(NOW, ZoneOffset.UTC);
        LocalDate hourAgoDay = LocalDate.ofInstant(HOUR_AGO, ZoneOffset.UTC);
        List<LocalDate> days = today.equals(hourAgoDay) ? List.of(today) : List.of(hourAgoDay, today);
        Map<String, Object> answers = new LinkedHashMap<>();
        for (var e : byProjection.entrySet()) {
            String usage = e.getValue().ref("UsageTable");
            DynamoUsageStore usageStore = new DynamoUsageStore(stack.dynamo(), usage, keys);
            DynamoAnalyticsStore analytics = new DynamoAnalyticsStore(stack.dynamo(), usage, e.getValue().ref("HitsTable"), keys);

            Map<String, Long> hourly = mine(usageStore.hourlyTotals(hours));
            Map<String, Map<LocalDate, Long>> daily = mine(usageStore.dailyCountsAllClients(days));
            Map<String, Map<String, Long>> hourlyByClient = mine(analytics.hourlyCountsAllClients(hours));
            Map<String, Map<String, List<Long>>> tallies = new HashMap<>();
            mine(analytics.hourlyTalliesAllClients(hours)).forEach((client, byHour) -> byHour.forEach((hour, t) ->
                    tallies.computeIfAbsent(client, c -> new HashMap<>()).put(hour, asList(t))));

            assertThat(hourly).as(e.getKey() + " hourly totals (top clients)").isEqualTo(expectedTotals());
            assertThat(daily.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum())
                    .as(e.getKey() + " daily, all clients").isEqualTo(expectedTotals().values().stream().mapToLong(Long::longValue).sum());
            daily.forEach((client, byDay) -> assertThat(byDay.values().stream().mapToLong(Long::longValue).sum())
                    .as(e.getKey() + " daily of " + client).isEqualTo(expectedTotals().get(client)));
            assertThat(hourlyByClient).as(e.getKey() + " hourly by client (analytics)").isEqualTo(expectedCounts());
            assertThat(tallies).as(e.getKey() + " status classes (analytics)").isEqualTo(expectedTallies());
            answers.put(e.getKey(), List.of(hourly, daily, hourlyByClient, tallies));
        }
        assertThat(answers.get("KEYS_ONLY")).isEqualTo(answers.get("INCLUDE"));
        // What this emulator returns from a KEYS_ONLY index without a projection expression (readers must not care).
        var raw = stack.dynamo().query(q -> q.tableName(byProjection.get("KEYS_ONLY").ref("UsageTable")).indexName("by_hour")
                .keyConditionExpression("hour_bucket = :b").expressionAttributeValues(Map.of(":b",
                        AttributeValue.fromS(keys.bucket(UsageKeys.hour(NOW), keys.shardOf(sent.keySet().iterator().next()))))));
        System.out.println("moto_server, KEYS_ONLY by_hour query, attributes returned: "
                + (raw.items().isEmpty() ? "(no item)" : raw.items().getFirst().keySet()));
    }

    @Test
    void readersIgnoreWhatAnIndexAnswersBeyondItsKeys() {
        // An index entry that carries a count (INCLUDE, or an emulator returning more than KEYS_ONLY) and a stale
        // one at that: the readers still answer the table's counts.
        for (var e : byProjection.entrySet()) {
            try (DynamoDbClient lying = new LedgerFixture(stack).clientWith(new StaleIndexCounts())) {
                String usage = e.getValue().ref("UsageTable");
                List<String> hours = List.of(UsageKeys.hour(HOUR_AGO), UsageKeys.hour(NOW));
                assertThat(mine(new DynamoUsageStore(lying, usage, keys).hourlyTotals(hours))).as(e.getKey())
                        .isEqualTo(expectedTotals());
                assertThat(mine(new DynamoAnalyticsStore(lying, usage, e.getValue().ref("HitsTable"), keys)
                        .hourlyCountsAllClients(hours))).as(e.getKey()).isEqualTo(expectedCounts());
            }
        }
    }

    @Test
    void aLocalStateCreatedWithIncludeIndexesIsKeptByTodaysBootstrap() {
        // .local/state from before issue 28: the tables exist with INCLUDE; today's default (KEYS_ONLY) leaves them as they are.
        SamTemplate template = SamTemplate.load(TestStack.PROJECT_ROOT.resolve("template.yaml"));
        ResourceBootstrap include = byProjection.get("INCLUDE");
        String prefix = include.ref("UsageTable").substring(0, include.ref("UsageTable").length() - "UsageTable".length());
        ResourceBootstrap again = bootstrap(template, prefix, Map.of("Stage", "incl"));
        assertThat(again.ref("UsageTable")).isEqualTo(include.ref("UsageTable"));
        assertThat(projection(again.ref("UsageTable"), "by_day")).isEqualTo("INCLUDE");
        assertThat(mine(new DynamoUsageStore(stack.dynamo(), again.ref("UsageTable"), keys)
                .hourlyTotals(List.of(UsageKeys.hour(HOUR_AGO), UsageKeys.hour(NOW))))).isEqualTo(expectedTotals());
    }

    @Test
    void aMigrationStepDropsOneIndexAndItsKeyAttribute() {
        // docs/deploy.md: an existing stack moves to KEYS_ONLY one index per deploy; NONE is the step without it.
        SamTemplate template = SamTemplate.load(TestStack.PROJECT_ROOT.resolve("template.yaml"));
        ResourceBootstrap step = bootstrap(template, "mig-" + UUID.randomUUID().toString().substring(0, 6) + "-",
                Map.of("Stage", "mig", "UsageHourIndexProjection", "NONE", "UsageDayIndexProjection", "INCLUDE"));
        var table = stack.dynamo().describeTable(b -> b.tableName(step.ref("UsageTable"))).table();
        assertThat(table.globalSecondaryIndexes()).extracting(g -> g.indexName()).containsExactly("by_day");
        assertThat(table.attributeDefinitions()).extracting(a -> a.attributeName())
                .containsExactlyInAnyOrder("pk", "day_bucket", "client_id");
        assertThat(projection(step.ref("UsageTable"), "by_day")).isEqualTo("INCLUDE");
    }

    // --- helpers -------------------------------------------------------------------------------

    private ResourceBootstrap bootstrap(SamTemplate template, String prefix, Map<String, String> parameters) {
        try (var sqs = dev.usagetracker.config.AwsClients.sqs(stack.config())) {
            return new ResourceBootstrap(template, prefix, parameters).create(stack.kms(), stack.dynamo(), sqs, 0);
        }
    }

    private String projection(String table, String index) {
        return stack.dynamo().describeTable(b -> b.tableName(table)).table().globalSecondaryIndexes().stream()
                .filter(g -> g.indexName().equals(index)).findFirst().orElseThrow().projection().projectionTypeAsString();
    }

    private <V> Map<String, V> mine(Map<String, V> all) {
        Map<String, V> mine = new HashMap<>(all);
        mine.keySet().retainAll(sent.keySet());
        return mine;
    }

    private Map<String, Long> expectedTotals() {
        Map<String, Long> totals = new HashMap<>();
        sent.forEach((client, byHour) -> byHour.values().forEach(t -> totals.merge(client, t[0], Long::sum)));
        return totals;
    }

    private Map<String, Map<String, Long>> expectedCounts() {
        Map<String, Map<String, Long>> counts = new HashMap<>();
        sent.forEach((client, byHour) -> byHour.forEach((hour, t) -> counts.computeIfAbsent(client, c -> new HashMap<>()).put(hour, t[0])));
        return counts;
    }

    private Map<String, Map<String, List<Long>>> expectedTallies() {
        Map<String, Map<String, List<Long>>> tallies = new HashMap<>();
        sent.forEach((client, byHour) -> byHour.forEach((hour, t) ->
                tallies.computeIfAbsent(client, c -> new HashMap<>()).put(hour, asList(t))));
        return tallies;
    }

    private static List<Long> asList(long[] t) {
        return java.util.Arrays.stream(t).boxed().toList();
    }

    private static String client() {
        return "ix-" + UUID.randomUUID().toString().substring(0, 12);
    }

    private static HitBatch part(String client, Instant at, int hits, int status) {
        List<HitBatch.PackedHit> packed = new ArrayList<>();
        for (int i = 0; i < hits; i++) {
            packed.add(new HitBatch.PackedHit(at.toEpochMilli() - i, "10.0.0." + i, "/p/" + i, "GET", status, 1.0));
        }
        return new HitBatch(1, UUID.randomUUID().toString().replace("-", "").substring(0, 16), 0, 0, client, at, packed);
    }

    private static QueuedMessage message(HitBatch part) {
        return new QueuedMessage(UUID.randomUUID().toString(), new String(Json.write(part), StandardCharsets.UTF_8));
    }

    /** Every index query answers a count of 999,999 with each item, whatever was asked. */
    private static final class StaleIndexCounts implements ExecutionInterceptor {
        @Override
        public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
            if (!(context.response() instanceof QueryResponse q)) return context.response();
            List<Map<String, AttributeValue>> items = q.items().stream().map(i -> {
                Map<String, AttributeValue> more = new HashMap<>(i);
                more.put("count", AttributeValue.fromN("999999"));
                return (Map<String, AttributeValue>) more;
            }).toList();
            return q.toBuilder().items(items).build();
        }
    }
}
