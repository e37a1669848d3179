package dev.usagetracker.local;

import static dev.usagetracker.local.LocalRuntimeE2EIT.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Issue 15's erasure through the real stack: a client erased while it is posting hits, then a Scan of
 * every table and {@code SCAN 0 MATCH *} over Redis find nothing that names it (its id, its email's and
 * API key's hashes), the other clients' counts are exact, and its email and id register again.
 */
@ExtendWith(TestStack.Extension.class)
class ErasureIT {
    static final String ADMIN_KEY = "erasure-admin-key-0123456789";
    static final String PREFIX = "ers-";
    /**
     * Long enough that the consumer guards erasure by reading the client rows once per batch, as in
     * production (DynamoHitLedger.guardWindow: more than its 12 s SDK call timeout plus 10 s), not by a
     * ConditionCheck per transaction; the ledger test below runs both guards.
     */
    static final String ERASURE_DELAY_SECONDS = "25";
    static LocalRuntime runtime;
    static HttpJson api;
    static DynamoDbClient dynamo;
    static Redis redis;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of("RateLimitRegister", "1000/1m", "RateLimitIngest", "100000/1m", "RateLimitRead", "100000/1m", "ERASURE_DELAY_SECONDS", ERASURE_DELAY_SECONDS),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 2, 4, false, PREFIX));
        api = new HttpJson(runtime.baseUrl());
        dynamo = s.dynamo();
        redis = new Redis(s.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "")));
    }

    @AfterAll
    static void stop() {
        if (redis != null) redis.close();
        if (runtime != null) runtime.close();
    }

    @Test
    void aClientErasedWhilePostingLeavesNothingThatNamesItAndOthersKeepTheirExactCounts() throws Exception {
        String admin = token(ADMIN_KEY);
        JsonNode a = register("bystander-a", null);
        JsonNode b = register("bystander-b", null);
        String email = "leaver-" + suffix() + "@example.com";
        JsonNode victim = register("leaver", email);
        String id = victim.get("client_id").asText();
        String key = victim.get("api_key").asText();
        String victimToken = token(key);

        // the other clients' traffic, known exactly
        post(a.get("api_key").asText(), 40);
        post(b.get("api_key").asText(), 7);
        post(b.get("api_key").asText(), 7);
        // the victim's traffic is counted and mirrored before it leaves (so there is data to erase)
        post(key, 24);
        // a back-dated hit: its hourly aggregate is older than the hourly TTL window
        Reply backdated = api.post("/api/logs", Map.of("ip", "192.0.2.77", "endpoint", "/erasure/old",
                "timestamp", java.time.Instant.now().minus(Duration.ofDays(5)).toString()), Map.of("X-API-Key", key));
        assertThat(backdated.status()).as(backdated.body()).isEqualTo(202);
        Await.until(Duration.ofSeconds(30), "the victim's hits counted", () -> dailyTotal(admin, id) == 25);
        assertThat(api.get("/api/usage/endpoints?client_id=" + id, bearer(admin)).status()).isEqualTo(200);
        assertThat(api.get("/api/usage/top", bearer(admin)).status()).isEqualTo(200);
        Set<String> names = namesOf(id);
        assertThat(names).as("client id, email hash, API key hash").hasSizeGreaterThanOrEqualTo(3);
        assertThat(redisKeysNaming(names)).as("Redis keys of the client before the erasure").isNotEmpty();

        // a bearer token cannot erase the account
        Reply byToken = delete("/api/clients/me", bearer(victimToken));
        assertProblem(byToken, 403);
        assertThat(byToken.body()).contains("API key itself");

        // the victim keeps posting from another thread while it is erased
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Integer> others = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread poster = new Thread(() -> {
            while (!stop.get()) {
                int status = api.post("/api/logs", batch(5), Map.of("X-API-Key", key)).status();
                if (status == 202) accepted.incrementAndGet();
                else if (status == 401) refused.incrementAndGet();
                else others.add(status);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "erased-poster");
        poster.start();
        Await.until(Duration.ofSeconds(30), "the poster running", () -> accepted.get() >= 5);

        Reply erased = delete("/api/clients/me", Map.of("X-API-Key", key));
        assertThat(erased.status()).as(erased.body()).isEqualTo(202);
        assertThat(erased.json().get("client_id").asText()).isEqualTo(id);
        assertThat(erased.json().get("status").asText()).isEqualTo("erasing");
        // at once: the key and the token minted from it are dead
        assertProblem(api.post("/api/logs", batch(1), Map.of("X-API-Key", key)), 401);
        assertProblem(api.post("/api/token", "application/json", "", Map.of("X-API-Key", key)), 401);
        assertProblem(api.get("/api/usage/daily", bearer(victimToken)), 401);
        assertProblem(api.post("/api/logs", batch(1), bearer(victimToken)), 401);
        // asking again while it is being erased answers the same (idempotent)
        Reply again = delete("/api/clients/" + id, bearer(admin));
        assertThat(again.status()).as(again.body()).isEqualTo(202);
        assertThat(again.json().get("status").asText()).isEqualTo("erasing");
        Await.until(Duration.ofSeconds(30), "the poster refused", () -> refused.get() >= 3);
        stop.set(true);
        poster.join(30_000);
        assertThat(others).as("answers other than 202/401 while erased").isEmpty();

        awaitErased(id);
        assertThat(itemsNaming(names)).as("table items naming the erased client").isEmpty();
        assertThat(redisKeysNaming(names)).as("Redis keys naming the erased client").isEmpty();
        assertThat(topMembersNaming(id)).as("/top rankings holding the erased client").isEmpty();
        assertProblem(api.get("/api/clients/" + id, bearer(admin)), 404);

        // the other clients' counts are untouched and exact
        assertThat(dailyTotal(admin, a.get("client_id").asText())).isEqualTo(40);
        assertThat(dailyTotal(admin, b.get("client_id").asText())).isEqualTo(14);

        // the email registers again, and so does the id; the new client inherits nothing
        Reply again201 = api.post("/api/register", Map.of("name", "returning", "email", email, "client_id", id), Map.of());
        assertThat(again201.status()).as(again201.body()).isEqualTo(201);
        String newKey = again201.json().get("api_key").asText();
        Thread.sleep(1_500); // any stale queued hit of the old client would be consumed by now
        assertThat(dailyTotal(token(newKey), null)).isZero();
        System.out.printf("ErasureIT: victim posted %d accepted batches of 5 (+25 before), %d refused after the erasure;"
                        + " %d names checked across %d tables; bystanders 40 and 14 hits exact%n",
                accepted.get(), refused.get(), names.size(), tables().size());
    }

    @Test
    void theAdminErasesAnotherClientButNotTheBootstrapAdminAndClientsCannotEraseOthers() {
        String admin = token(ADMIN_KEY);
        JsonNode other = register("erased-by-admin", null);
        String id = other.get("client_id").asText();
        String key = other.get("api_key").asText();
        post(key, 12);
        Await.until(Duration.ofSeconds(30), "its hits counted", () -> dailyTotal(admin, id) == 12);
        Set<String> names = namesOf(id);

        JsonNode client = register("not-an-admin", null);
        assertProblem(delete("/api/clients/" + id, bearer(token(client.get("api_key").asText()))), 403);
        assertProblem(delete("/api/clients/admin", bearer(admin)), 409);
        assertProblem(delete("/api/clients/me", Map.of("X-API-Key", ADMIN_KEY)), 409);
        assertProblem(delete("/api/clients/no-such-client-" + suffix(), bearer(admin)), 404);
        assertProblem(delete("/api/clients/x", bearer(admin)), 400);

        Reply erased = delete("/api/clients/" + id, bearer(admin));
        assertThat(erased.status()).as(erased.body()).isEqualTo(202);
        assertProblem(api.post("/api/logs", batch(1), Map.of("X-API-Key", key)), 401);
        awaitErased(id);
        assertThat(itemsNaming(names)).isEmpty();
        assertThat(redisKeysNaming(names)).isEmpty();
        assertProblem(delete("/api/clients/" + id, bearer(admin)), 404);
        // the admin still works
        assertThat(api.get("/api/usage/daily", bearer(token(ADMIN_KEY))).status()).isEqualTo(200);
    }

    @Test
    void theLedgerCommitsNothingForAnErasingAnErasedOrAReRegisteredClient() {
        commitsNothingForAnErasingAnErasedOrAReRegisteredClient(new dev.usagetracker.store.DynamoHitLedger(dynamo,
                runtime.resource("HitsTable"), runtime.resource("UsageTable"), new dev.usagetracker.store.UsageKeys(4),
                Duration.ofDays(90), runtime.resource("ClientsTable")));
    }

    /** The same with the bounded guard and the recount path (issue 28): raw puts and aggregate writes guarded alike. */
    @Test
    void theRecountPathCommitsNothingForAnErasingAnErasedOrAReRegisteredClient() {
        commitsNothingForAnErasingAnErasedOrAReRegisteredClient(new dev.usagetracker.store.DynamoHitLedger(dynamo,
                runtime.resource("HitsTable"), runtime.resource("UsageTable"), new dev.usagetracker.store.UsageKeys(4),
                Duration.ofDays(90), runtime.resource("ClientsTable"), Duration.ofSeconds(5), java.time.Clock.systemUTC(),
                dev.usagetracker.store.DynamoHitLedger.Mode.RECOUNT));
    }

    private void commitsNothingForAnErasingAnErasedOrAReRegisteredClient(dev.usagetracker.store.DynamoHitLedger ledger) {
        var store = new dev.usagetracker.store.DynamoClientStore(dynamo, runtime.resource("ClientsTable"), java.time.Clock.systemUTC());
        java.time.Instant now = java.time.Instant.now();

        String active = register("ledger-active", null).get("client_id").asText();
        var counted = part(active, now);
        assertThat(ledger.record(List.of(counted)).committed()).containsExactly(counted.key());

        assertThat(store.markErasing(active, now)).isPresent();
        var late = part(active, now);
        var outcome = ledger.record(List.of(late));
        assertThat(outcome.committed()).isEmpty();
        assertThat(outcome.failed()).as("dropped, not retried").isEmpty();
        assertThat(outcome.duplicates()).containsExactly(late.key());

        var orphan = part("never-registered-" + suffix(), now);
        assertThat(ledger.record(List.of(orphan)).committed()).isEmpty();

        // an id registered after the hits were received does not inherit them
        String reborn = register("ledger-reborn", null).get("client_id").asText();
        var old = part(reborn, now.minus(Duration.ofMinutes(10)));
        var fresh = part(reborn, java.time.Instant.now());
        assertThat(ledger.record(List.of(old)).committed()).isEmpty();
        assertThat(ledger.record(List.of(fresh)).committed()).containsExactly(fresh.key());
        List<String> raw = itemsNaming(Set.of(late.batchId(), orphan.batchId(), old.batchId()));
        assertThat(raw).as("raw hits of dropped parts").isEmpty();
    }

    /**
     * Issue 29, finding 5: a redriven part of an erased id, received before the id was registered again, and
     * the new registration's parts in one call (one consumer batch, one transaction before the fix) — the
     * old part is dropped, the new ones are counted. Both guards: the per-transaction ConditionCheck and
     * the once-per-batch row read of a bounded row age (issue 28).
     */
    @Test
    void anErasedIdsOldPartDoesNotTakeTheReRegisteredClientsPartsOfTheSameBatchWithIt() {
        String reborn = register("ledger-mixed", null).get("client_id").asText();
        java.time.Instant registered = java.time.Instant.now();
        var transaction = dev.usagetracker.store.DynamoHitLedger.Mode.TRANSACTION;
        var recount = dev.usagetracker.store.DynamoHitLedger.Mode.RECOUNT;
        // The atomic guard, the bounded guard with transactions, the bounded guard with the recount path (issue 28).
        for (var guard : List.of(Map.entry(Duration.ZERO, transaction), Map.entry(Duration.ofSeconds(5), transaction),
                Map.entry(Duration.ofSeconds(5), recount))) {
            Duration rowAge = guard.getKey();
            var ledger = new dev.usagetracker.store.DynamoHitLedger(dynamo, runtime.resource("HitsTable"),
                    runtime.resource("UsageTable"), new dev.usagetracker.store.UsageKeys(4), Duration.ofDays(90),
                    runtime.resource("ClientsTable"), rowAge, java.time.Clock.systemUTC(), guard.getValue());
            var old = part(reborn, registered.minus(Duration.ofMinutes(10)));
            var fresh = part(reborn, registered);
            var fresher = part(reborn, registered.plusMillis(1));
            var outcome = ledger.record(List.of(old, fresh, fresher));
            assertThat(outcome.committed()).as("row age " + rowAge + ", " + guard.getValue())
                    .containsExactlyInAnyOrder(fresh.key(), fresher.key());
            assertThat(outcome.duplicates()).as("dropped, reported done").containsExactly(old.key());
            assertThat(outcome.failed()).isEmpty();
            assertThat(rawItemsOf(List.of(old))).as("the old part's raw hits").isZero();
            assertThat(rawItemsOf(List.of(fresh, fresher))).as("the new parts' raw hits").isEqualTo(2);
        }
        var daily = dynamo.getItem(r -> r.tableName(runtime.resource("UsageTable")).consistentRead(true)
                .key(Map.of("pk", AttributeValue.fromS(dev.usagetracker.store.UsageKeys.dailyPk(reborn,
                        dev.usagetracker.store.UsageKeys.day(registered)))))).item();
        assertThat(daily.get("count").n()).as("the new registration's six parts, counted once").isEqualTo("6");
    }

    /**
     * The same through the queue and the real consumer: hits acknowledged to a client, which is erased
     * while they wait (the consumer is down), the id registered again and new hits acknowledged; then the
     * consumer comes back and meets the old and the new messages in one batch. Before issue 29's fix the
     * whole batch was "client gone" and the new client's acknowledged hits were deleted.
     */
    @Test
    void oldMessagesOfAnErasedIdInOneBatchWithTheReRegisteredClientsHitsLeaveTheNewHitsCounted() throws Exception {
        String email = "redrive-" + suffix() + "@example.com";
        JsonNode first = register("redrive", email);
        String id = first.get("client_id").asText();
        String oldKey = first.get("api_key").asText();
        List<SqsEventSourceMapping> hitConsumers = runtime.eventSourceMappings().stream()
                .filter(m -> m.functionName().equals("HitConsumerFunction")).toList();
        assertThat(hitConsumers).hasSize(1);
        hitConsumers.forEach(SqsEventSourceMapping::kill);
        try {
            post(oldKey, 3);
            post(oldKey, 2);
            Reply erased = delete("/api/clients/me", Map.of("X-API-Key", oldKey));
            assertThat(erased.status()).as(erased.body()).isEqualTo(202);
            Await.until(Duration.ofSeconds(120), "the erasure of " + id, () -> dynamo.getItem(r -> r
                    .tableName(runtime.resource("ClientsTable")).consistentRead(true)
                    .key(Map.of("client_id", AttributeValue.fromS(id)))).item().isEmpty());
            Reply again = api.post("/api/register", Map.of("name", "redrive again", "email", email, "client_id", id), Map.of());
            assertThat(again.status()).as(again.body()).isEqualTo(201);
            String newKey = again.json().get("api_key").asText();
            post(newKey, 4);
            post(newKey, 1);
            String newToken = token(newKey);
            // one poller, so that the four waiting messages are gathered into one batch
            hitConsumers.forEach(m -> m.start(1));
            Await.until(Duration.ofSeconds(60), "the new client's 5 hits counted", () -> dailyTotal(newToken, null) == 5);
            Await.until(Duration.ofSeconds(60), "the hits queue drained", () -> {
                var attributes = runtime.sqs().getQueueAttributes(r -> r.queueUrl(runtime.resource("HitsQueue"))
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
                return attributes.values().stream().allMatch("0"::equals);
            });
            assertThat(dailyTotal(newToken, null)).as("the old client's 5 hits are not inherited").isEqualTo(5);
        } finally {
            hitConsumers.stream().filter(m -> !m.isRunning()).forEach(m -> m.start(2));
        }
    }

    static dev.usagetracker.ingest.HitBatch part(String clientId, java.time.Instant receivedAt) {
        return new dev.usagetracker.ingest.HitBatch(1, UUID.randomUUID().toString(), 0, 0, clientId, receivedAt,
                List.of(new dev.usagetracker.ingest.HitBatch.PackedHit(receivedAt.toEpochMilli(), "192.0.2.9", "/ledger")));
    }

    // --- what names a client -------------------------------------------------------------------

    /** The client id and every hash that stands for it: its row's email and key hashes, its guards' keys. */
    static Set<String> namesOf(String id) {
        Set<String> names = new LinkedHashSet<>(List.of(id));
        var row = dynamo.getItem(r -> r.tableName(runtime.resource("ClientsTable")).consistentRead(true)
                .key(Map.of("client_id", AttributeValue.fromS(id)))).item();
        names.add(row.get("email_hash").s());
        names.add(row.get("api_key_hash").s());
        return names;
    }

    static List<String> tables() {
        return dynamo.listTables().tableNames().stream().filter(t -> t.startsWith(PREFIX)).toList();
    }

    /**
     * The raw items of these parts, read by their partition (a Scan of the whole table, which other tests keep
     * writing to, can page past items on the emulator).
     */
    static long rawItemsOf(List<dev.usagetracker.ingest.HitBatch> parts) {
        long found = 0;
        for (var p : parts) {
            found += dynamo.query(r -> r.tableName(runtime.resource("HitsTable")).consistentRead(true)
                    .keyConditionExpression("pk = :pk").filterExpression("batch_id = :b")
                    .expressionAttributeValues(Map.of(":pk", AttributeValue.fromS(p.clientId() + "#"
                            + dev.usagetracker.store.UsageKeys.day(p.receivedAt())), ":b", AttributeValue.fromS(p.batchId()))))
                    .count();
        }
        return found;
    }

    static List<String> itemsNaming(Set<String> names) {
        List<String> found = new ArrayList<>();
        for (String table : tables()) {
            Map<String, AttributeValue> start = null;
            do {
                Map<String, AttributeValue> from = start;
                var page = dynamo.scan(r -> r.tableName(table).consistentRead(true).exclusiveStartKey(from));
                for (var item : page.items()) {
                    String text = item.toString();
                    names.stream().filter(text::contains).findAny().ifPresent(n -> found.add(table + ": " + text));
                }
                start = page.lastEvaluatedKey();
            } while (start != null && !start.isEmpty());
        }
        return found;
    }

    static List<String> redisKeysNaming(Set<String> names) {
        List<String> found = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            ScanCursor from = cursor;
            KeyScanCursor<String> page = redis.call(c -> c.scan(from, ScanArgs.Builder.matches("*").limit(1000)));
            // The registration limiter's per-email window (its key holds the email's HMAC) is not the client's
            // data and expires with its hour: erasure leaves it to its TTL (docs/security.md, "Erasure").
            page.getKeys().stream().filter(k -> names.stream().anyMatch(k::contains))
                    .filter(k -> !k.contains(":rl:{register-email:")).forEach(found::add);
            cursor = page;
        } while (!cursor.isFinished());
        return found;
    }

    static List<String> topMembersNaming(String id) {
        List<String> found = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            ScanCursor from = cursor;
            KeyScanCursor<String> page = redis.call(c -> c.scan(from, ScanArgs.Builder.matches("*:top:*").limit(1000)));
            for (String k : page.getKeys()) {
                if ("zset".equals(redis.call(c -> c.type(k))) && redis.call(c -> c.zscore(k, id)) != null) found.add(k);
            }
            cursor = page;
        } while (!cursor.isFinished());
        return found;
    }

    /** The row is deleted last; then the hits queue must be empty, so no dropped hit is still in flight. */
    static void awaitErased(String id) {
        Await.until(Duration.ofSeconds(90), "the erasure of " + id, () -> dynamo.getItem(r -> r
                .tableName(runtime.resource("ClientsTable")).consistentRead(true)
                .key(Map.of("client_id", AttributeValue.fromS(id)))).item().isEmpty());
        Await.until(Duration.ofSeconds(60), "the hits queue drained", () -> {
            var attributes = runtime.sqs().getQueueAttributes(r -> r.queueUrl(runtime.resource("HitsQueue"))
                    .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
            return attributes.values().stream().allMatch("0"::equals);
        });
    }

    // --- helpers -------------------------------------------------------------------------------

    static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    static JsonNode register(String prefix, String email) {
        return api.register(prefix, email);
    }

    static String token(String key) {
        return api.token(key);
    }

    static Map<String, String> bearer(String token) {
        return HttpJson.bearer(token);
    }

    static Reply delete(String path, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(runtime.baseUrl() + path)).DELETE()
                .timeout(Duration.ofSeconds(30));
        headers.forEach(request::header);
        return api.send(request.build());
    }

    static Map<String, Object> batch(int n) {
        List<Map<String, Object>> hits = new ArrayList<>();
        for (int i = 0; i < n; i++) hits.add(Map.of("ip", "192.0.2." + (i + 1), "endpoint", "/erasure/" + i));
        return Map.of("hits", hits);
    }

    static void post(String key, int hits) {
        Reply r = api.post("/api/logs", batch(hits), Map.of("X-API-Key", key));
        assertThat(r.status()).as(r.body()).isEqualTo(202);
    }

    /** The client's /daily total, read by the admin (or by the client itself when {@code id} is null). */
    static long dailyTotal(String token, String id) {
        Reply r = api.get("/api/usage/daily" + (id == null ? "" : "?client_id=" + id), bearer(token));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        long total = 0;
        for (JsonNode c : r.json().get("clients")) total += c.get("total").asLong();
        return total;
    }
}
