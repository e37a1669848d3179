package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.config.Config;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitLedger;
import dev.usagetracker.store.DynamoHitLedger;
import dev.usagetracker.store.DynamoUsageStore;
import dev.usagetracker.store.UsageKeys;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * What the ledger-level tests (ExactlyOnceIT, RecountLedgerIT) share: a ledger on the TestStack's tables,
 * parts of one client's hits received {@link #NOW}, a DynamoDB client with a fault hook, and the three places
 * a hit is counted — the daily and hourly aggregates as the readers see them, and the raw items — read
 * consistently, so a test asserts them in one call.
 */
final class LedgerFixture {
    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    private final TestStack stack;
    private final Config config;
    private final UsageKeys keys;

    LedgerFixture(TestStack stack) {
        this.stack = stack;
        this.config = stack.config();
        this.keys = new UsageKeys(config.usageShards());
    }

    Config config() {
        return config;
    }

    UsageKeys keys() {
        return keys;
    }

    DynamoDbClient dynamo() {
        return stack.dynamo();
    }

    /** The ledger without a client check (the tests' clients have no row), with the given design. */
    HitLedger ledger(DynamoDbClient dynamo, DynamoHitLedger.Mode mode) {
        return new DynamoHitLedger(dynamo, config.hitsTable(), config.usageTable(), keys, Duration.ofDays(config.retentionDays()),
                null, Duration.ZERO, Clock.systemUTC(), mode);
    }

    static String newClient(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 12);
    }

    /** One message's part: {@code hits} hits of {@code client} in the ms before NOW, every even one 200, every odd one 503. */
    static HitBatch part(String client, int hits) {
        List<HitBatch.PackedHit> packed = new ArrayList<>();
        for (int i = 0; i < hits; i++) {
            packed.add(new HitBatch.PackedHit(NOW.toEpochMilli() - i, "10.0.0." + i, "/p/" + i, "GET", i % 2 == 0 ? 200 : 503, null));
        }
        return new HitBatch(1, UUID.randomUUID().toString().replace("-", "").substring(0, 16), 0, 0, client, NOW, packed);
    }

    /** An attribute of an aggregate item, read consistently; 0 when the item or the attribute is absent. */
    long aggregate(String pk, String attribute) {
        var item = stack.dynamo().getItem(r -> r.tableName(config.usageTable()).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS(pk)))).item();
        return item == null || !item.containsKey(attribute) ? 0 : Long.parseLong(item.get(attribute).n());
    }

    long daily(String client) {
        return aggregate(UsageKeys.dailyPk(client, UsageKeys.day(NOW)), "count");
    }

    /** The client's hourly aggregates over the hours its parts' hits fall in (NOW's, and the one before when NOW is just past an hour). */
    long hourly(String client) {
        return hours().stream().mapToLong(hour -> aggregate(UsageKeys.hourlyPk(client, hour), "count")).sum();
    }

    long rawHits(String client) {
        return stack.dynamo().query(q -> q.tableName(config.hitsTable()).keyConditionExpression("pk = :pk").consistentRead(true)
                        .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(client + "#" + UsageKeys.day(NOW)))))
                .items().stream().mapToLong(i -> Long.parseLong(i.get("n").n())).sum();
    }

    /**
     * The daily and hourly counts as the readers return them (DynamoUsageStore: /daily and the hourly ranking),
     * the aggregates themselves, the raw items and the daily item's status classes all agree on {@code expected}.
     */
    void assertCounted(String client, long expected) {
        var store = new DynamoUsageStore(stack.dynamo(), config.usageTable(), keys);
        long dailyRead = store.dailyCounts(client, List.of(LocalDate.ofInstant(NOW, ZoneOffset.UTC))).values().stream()
                .mapToLong(Long::longValue).sum();
        assertThat(dailyRead).as("daily of %s, as /daily reads it", client).isEqualTo(expected);
        assertThat(store.hourlyTotals(hours()).getOrDefault(client, 0L)).as("hourly of %s, as the ranking reads it", client)
                .isEqualTo(expected);
        assertThat(daily(client)).as("daily aggregate of %s", client).isEqualTo(expected);
        assertThat(hourly(client)).as("hourly aggregates of %s", client).isEqualTo(expected);
        assertThat(rawHits(client)).as("raw hits of %s", client).isEqualTo(expected);
        String dailyPk = UsageKeys.dailyPk(client, UsageKeys.day(NOW));
        assertThat(aggregate(dailyPk, "s2") + aggregate(dailyPk, "s5")).as("status classes of %s", client).isEqualTo(expected);
    }

    /** A client of the TestStack's DynamoDB with {@code interceptor} on every call: faults and hooks. */
    DynamoDbClient clientWith(ExecutionInterceptor interceptor) {
        return DynamoDbClient.builder()
                .region(Region.of(config.region()))
                .endpointOverride(config.endpoint("dynamodb").orElseThrow())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .overrideConfiguration(o -> o.addExecutionInterceptor(interceptor))
                .build();
    }

    /** Thrown by a fault hook after a write landed: the container died before its answer was used. */
    static final class ContainerCrash extends RuntimeException {
        ContainerCrash() {
            super("simulated container death");
        }
    }

    private static List<String> hours() {
        return List.of(UsageKeys.hour(NOW), UsageKeys.hour(NOW.minusSeconds(1))).stream().distinct().toList();
    }
}
