package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.App;
import dev.usagetracker.config.Config;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.local.HttpJson.Reply;
import dev.usagetracker.redis.Redis;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Reads when the cache or the database goes away, with emulators of its own (they are killed):
 * Redis down → the database answers (MISS); database down too → the last good answer, marked STALE,
 * or 503 with Retry-After when there is none; Redis unreachable while hits commit, or a consumer stopped
 * between its commit and Redis → once Redis is back, or SQS delivers the message again, no answer cached
 * before the commit is served.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CacheFallbackIT {
    static Emulators emulators;
    static LocalRuntime runtime;
    static HttpJson api;
    /** Between the functions and redis-server: cut, Redis is unreachable but keeps its data (a partition). */
    static FaultProxy redisProxy;

    @BeforeAll
    static void start() throws Exception {
        emulators = Emulators.start(TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/fallback"), 0, 0, 0);
        redisProxy = new FaultProxy("redis", URI.create(emulators.redisUrl()).getPort());
        // One container per function, so the last-good answer is in the container that serves the read.
        // A breaker that opens for 1 s, not 10: the reads after the outage reach Redis again within seconds.
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(emulators), Map.of("LOCAL_SCHEDULE_SECONDS", "3600", "RATE_LIMIT_MODE", "local",
                        "RedisUrl", "redis://127.0.0.1:" + redisProxy.port(), "REDIS_BREAKER_OPEN_SECONDS", "1"),
                Optional.of("fallback-admin-key-0123456789"), Optional.of(Duration.ofMillis(100)), 20, 1, false, "fb-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (emulators != null && emulators.moto() != null) emulators.moto().resume();
        if (runtime != null) runtime.close();
        if (redisProxy != null) redisProxy.close();
        if (emulators != null) emulators.close();
    }

    /**
     * The consumer cannot bump the cache versions of a commit while Redis is unreachable; the answers
     * cached before it survive in Redis under the versions nobody bumped. Once Redis is back and the
     * schedule's prefetch has run (every minute on AWS; invoked here), none of them is served.
     */
    @Test
    @Order(1)
    void hitsCommittedWhileRedisWasUnreachableAreNotHiddenByAnAnswerCachedBeforeThem() throws Exception {
        Client client = twoHitsCached("partition");
        String token = client.token();

        redisProxy.cut();
        try {
            postTwoHits(client.apiKey());
            CachingIT.awaitTotalWith(api, token, 4); // committed: DynamoDB answers while Redis is away
            // the consumer's invocation, and with it its attempt at Redis, is over before Redis is back
            awaitHitsQueueDrained();
        } finally {
            redisProxy.restore();
        }
        awaitPrefetchWithRedis();

        // computed (MISS) until Redis serves the reader again, then cached
        awaitCachedCounting(token, 4);
    }

    /**
     * A consumer that commits and then dies (or meets a timeout) before it reaches Redis bumps nothing and
     * notes nothing. SQS delivers the message again, the ledger finds it committed, and that replay bumps.
     */
    @Test
    @Order(2)
    void aCommitWhoseWriterStoppedBeforeRedisIsNotHiddenOnceSqsDeliversItAgain() {
        Client client = twoHitsCached("replay");
        Instant now = Instant.now();
        HitBatch part = new HitBatch(1, UUID.randomUUID().toString(), 0, 0, client.id(), now, List.of(
                new HitBatch.PackedHit(now.toEpochMilli(), "192.0.2.10", "/cached"),
                new HitBatch.PackedHit(now.toEpochMilli(), "192.0.2.10", "/cached")));
        // the consumer's commit and nothing after it: the ledger as the consumer's container has it
        App consumer = new App(Config.from(runtime.pools().get("HitConsumerFunction").environment()), Clock.systemUTC());
        assertThat(consumer.ingest().ledger().record(List.of(part)).committed()).containsExactly(part.key());
        consumer.clients().redis().ifPresent(Redis::close);

        // its message was not deleted: SQS delivers it again
        runtime.sqs().sendMessage(r -> r.queueUrl(runtime.resource("HitsQueue"))
                .messageBody(new String(Json.write(part), StandardCharsets.UTF_8)));
        awaitHitsQueueDrained();
        awaitCachedCounting(client.token(), 4);
    }

    /** Every read counts {@code total} until one is served from the cache (X-Cache: HIT). */
    private static void awaitCachedCounting(String token, long total) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Reply read;
        do {
            read = api.get("/api/usage/daily", CachingIT.bearer(token));
            assertThat(read.status()).as(read.body()).isEqualTo(200);
            assertThat(CachingIT.total(read.json())).as("X-Cache: %s", read.header("X-Cache")).isEqualTo(total);
            if ("HIT".equals(read.header("X-Cache"))) return;
            ManagedProcess.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("never served from the cache again: " + read.body());
    }

    /** The consumer's invocations, and with them what they do after a commit, are over. */
    private static void awaitHitsQueueDrained() {
        Await.until(Duration.ofSeconds(30), "the hits queue drained", () -> runtime.sqs()
                .getQueueAttributes(r -> r.queueUrl(runtime.resource("HitsQueue")).attributeNames(
                        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
                .attributes().values().stream().allMatch("0"::equals));
    }

    record Client(String id, String apiKey, String token) {}

    /** A new client with 2 hits counted, and its /daily answer cached (X-Cache: HIT). */
    private static Client twoHitsCached(String name) {
        JsonNode client = CachingIT.registerWith(api, name);
        String key = client.get("api_key").asText();
        String token = CachingIT.tokenWith(api, key);
        postTwoHits(key);
        CachingIT.awaitTotalWith(api, token, 2);
        // a read racing the consumer's version bump may cache under the old version: wait for a HIT
        assertThat(CachingIT.total(CachingIT.awaitHeader(api, token, "X-Cache", "HIT").json())).isEqualTo(2);
        return new Client(client.get("client_id").asText(), key, token);
    }

    private static void postTwoHits(String apiKey) {
        assertThat(api.post("/api/logs", Map.of("hits", List.of(CachingIT.hit(), CachingIT.hit())), Map.of("X-API-Key", apiKey)).status())
                .isEqualTo(202);
    }

    /** Runs the scheduled PrefetchFunction until a run meets Redis (the first ones may not: it reconnects). */
    private static void awaitPrefetchWithRedis() {
        FunctionPool prefetch = runtime.pools().get("PrefetchFunction");
        Await.until(Duration.ofSeconds(30), "a prefetch run that reached Redis", () -> {
            try {
                Object summary = prefetch.invoke(new HashMap<>(Map.of("source", "aws.events",
                        "detail-type", "Scheduled Event", "time", Instant.now().toString())));
                System.out.println("PrefetchFunction: " + summary);
                Object epoch = ((Map<?, ?>) summary).get("cache_epoch");
                if (epoch == null || epoch.equals("bumped")) return true; // nothing (more) due, or made up now
            } catch (Exception e) {
                // Redis not reachable from its container yet
            }
            ManagedProcess.sleep(200);
            return false;
        });
    }

    @Test
    @Order(3)
    void redisDownFallsBackToTheDatabaseAndDatabaseDownToTheLastGoodAnswer() {
        String token = twoHitsCached("fallback").token();

        emulators.redis().kill();
        Reply withoutRedis = api.get("/api/usage/daily", CachingIT.bearer(token));
        assertThat(withoutRedis.status()).as(withoutRedis.body()).isEqualTo(200);
        assertThat(withoutRedis.header("X-Cache")).isEqualTo("MISS");
        assertThat(CachingIT.total(withoutRedis.json())).isEqualTo(2);

        emulators.moto().pause(); // the database stops answering (SIGSTOP, so nothing is lost)
        try {
            Reply stale = api.get("/api/usage/daily", CachingIT.bearer(token));
            assertThat(stale.status()).as(stale.body()).isEqualTo(200);
            assertThat(stale.header("X-Cache")).isEqualTo("STALE");
            assertThat(CachingIT.total(stale.json())).isEqualTo(2);

            Reply nothingCached = api.get("/api/usage/daily?days=30", CachingIT.bearer(token));
            assertThat(nothingCached.status()).as(nothingCached.body()).isEqualTo(503);
            assertThat(nothingCached.header("Retry-After")).matches("\\d+");
            assertThat(nothingCached.header("Content-Type")).isEqualTo("application/problem+json");
        } finally {
            emulators.moto().resume();
        }
        emulators.startRedis();
        Reply back = CachingIT.awaitHeader(api, token, "X-Cache", "MISS", "HIT");
        assertThat(CachingIT.total(back.json())).isEqualTo(2);
    }

}
