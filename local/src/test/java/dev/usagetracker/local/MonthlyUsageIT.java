package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.App;
import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.NewClient;
import dev.usagetracker.config.Config;
import dev.usagetracker.http.Json;
import dev.usagetracker.ingest.HitBatch;
import dev.usagetracker.ingest.HitConsumer.QueuedMessage;
import dev.usagetracker.plans.MonthlyUsage;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.store.DynamoMonthlyUsage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The monthly usage mirror in Redis never counts a commit twice, however a reader's rebuild from
 * DynamoDB interleaves with the consumer: the real consumer (App's composition root) against moto_server
 * and redis-server, with the interleavings forced through a proxy in front of DynamoDB.
 */
@ExtendWith(TestStack.Extension.class)
class MonthlyUsageIT {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private static final YearMonth MONTH = YearMonth.from(NOW.atZone(ZoneOffset.UTC));

    private TestStack stack;
    private CachingIT.CountingProxy proxy;
    private App app;
    private Redis redis;

    @BeforeEach
    void setUp(TestStack stack) throws Exception {
        this.stack = stack;
        proxy = new CachingIT.CountingProxy(URI.create(stack.emulators().awsEndpoint()));
        Map<String, String> env = new HashMap<>(stack.environment());
        env.put("AWS_ENDPOINT_URL_DYNAMODB", proxy.url());
        env.put("REDIS_URL", stack.emulators().redisUrl());
        env.put("REDIS_KEY_PREFIX", "monthit-" + UUID.randomUUID().toString().substring(0, 8) + ":");
        app = new App(Config.from(env), Clock.systemUTC());
        redis = app.clients().redis().orElseThrow();
    }

    @AfterEach
    void tearDown() {
        if (app != null) app.clients().redis().ifPresent(Redis::close);
        if (proxy != null) proxy.close();
    }

    @Test
    void aRebuildBetweenACommitAndItsCounterUpdateDoesNotCountTheBatchTwice() {
        String client = newClient();
        MonthlyUsage monthly = app.plans().monthlyUsage();
        assertThat(monthly.used(client, MONTH)).isZero();
        redis.call(c -> c.del(counterKey(client))); // the mirror is gone (expired, or Redis lost it)

        // A reader asks for the month right after each of the batch's aggregate writes (its transaction, or
        // the recount path's compare-and-sets of the hourly and daily items) and before the consumer's
        // after-commit step: after the last one its sum holds the batch.
        AtomicLong seenByRacingReader = new AtomicLong(-1);
        proxy.afterForward = op -> {
            if (op.equals("TransactWriteItems") || op.equals("UpdateItem")) {
                seenByRacingReader.set(app.plans().monthlyUsage().used(client, MONTH));
            }
        };
        assertThat(app.ingest().consumer().process(List.of(message(part(client, 3))))).isEmpty();
        proxy.afterForward = op -> { };

        assertThat(seenByRacingReader.get()).as("the racing reader's answer: DynamoDB's sum").isEqualTo(3);
        assertThat(monthly.used(client, MONTH)).as("counted once").isEqualTo(3);
        assertThat(app.ingest().consumer().process(List.of(message(part(client, 2))))).isEmpty();
        assertThat(monthly.used(client, MONTH)).isEqualTo(5);
        assertThat(redis.<String>call(c -> c.get(counterKey(client)))).as("the mirror").isEqualTo("5");
        assertThat(dynamoSum(client)).isEqualTo(5);
    }

    @Test
    void aBatchThatCommitsWhileAReaderSumsKeepsThatReaderFromSettingAStaleCounter() {
        String client = newClient();
        dev.usagetracker.alerts.MonthlyUsage truth = new DynamoMonthlyUsage(stack.dynamo(), stack.config().usageTable(), Clock.systemUTC());
        // This reader's DynamoDB read returns, and then a whole batch commits before it writes the counter.
        dev.usagetracker.alerts.MonthlyUsage slowRead = (clientId, month) -> {
            var before = truth.count(clientId, month);
            assertThat(app.ingest().consumer().process(List.of(message(part(client, 4))))).isEmpty();
            return before;
        };
        long stale = new MonthlyUsage(app.clients().redis(), slowRead, Clock.systemUTC()).used(client, MONTH);
        assertThat(stale).as("its answer is as of its read").isZero();
        assertThat(redis.<String>call(c -> c.get(counterKey(client)))).as("but it stored nothing").isNull();
        assertThat(app.plans().monthlyUsage().used(client, MONTH)).isEqualTo(4);
        assertThat(redis.<String>call(c -> c.get(counterKey(client)))).isEqualTo("4");
    }

    @Test
    void aBatchThatDiedInFlightBlocksRebuildsUntilItsMarkExpiresAndReadersStillGetTheTruth() {
        String client = newClient();
        assertThat(app.ingest().consumer().process(List.of(message(part(client, 6))))).isEmpty();
        // A consumer marks a batch in flight, then its container dies before the after-commit step.
        MonthlyUsage.InFlight orphan = MonthlyUsage.begin(redis, List.of(part(client, 1)));
        assertThat(orphan.epochs()).containsKey(client);
        redis.call(c -> c.del(counterKey(client)));

        assertThat(app.plans().monthlyUsage().used(client, MONTH)).isEqualTo(6);
        assertThat(redis.<String>call(c -> c.get(counterKey(client)))).as("no rebuild while a batch is in flight").isNull();
        // Its mark expires (IN_FLIGHT_TTL); the next reader rebuilds.
        redis.call(c -> c.del(syncKey(client)));
        assertThat(app.plans().monthlyUsage().used(client, MONTH)).isEqualTo(6);
        assertThat(redis.<String>call(c -> c.get(counterKey(client)))).isEqualTo("6");
        // The dead batch's late end step (a new epoch began since) adds nothing.
        MonthlyUsage.InFlight next = MonthlyUsage.begin(redis, List.of(part(client, 1)));
        MonthlyUsage.committed(redis, Map.of(client, Map.of(MONTH, new dev.usagetracker.alerts.MonthlyUsage.Count(1, 0))), orphan).forEach(redis::await);
        assertThat(redis.<String>call(c -> c.get(counterKey(client)))).isEqualTo("6");
        MonthlyUsage.committed(redis, Map.of(), next).forEach(redis::await);
        assertThat(app.ingest().consumer().process(List.of(message(part(client, 2))))).isEmpty();
        assertThat(app.plans().monthlyUsage().used(client, MONTH)).isEqualTo(8).isEqualTo(dynamoSum(client));
    }

    // --- helpers -------------------------------------------------------------------------------

    private String newClient() {
        String id = "month-" + UUID.randomUUID().toString().substring(0, 12);
        app.identity().clientStore().create(new NewClient(id, "Month " + id, Role.CLIENT, List.of(), NOW.minusSeconds(60),
                "eh-" + id, new byte[] {1}, "kh-" + id, new byte[] {2}));
        return id;
    }

    private String counterKey(String client) {
        return redis.key("month", "{" + client + "}", MONTH.toString());
    }

    private String syncKey(String client) {
        return redis.key("month-sync", "{" + client + "}", MONTH.toString());
    }

    private long dynamoSum(String client) {
        List<LocalDate> days = new ArrayList<>();
        for (LocalDate d = MONTH.atDay(1); !d.isAfter(LocalDate.ofInstant(NOW, ZoneOffset.UTC)); d = d.plusDays(1)) days.add(d);
        return app.usage().store().dailyCounts(client, days).values().stream().mapToLong(Long::longValue).sum();
    }

    private static HitBatch part(String client, int hits) {
        List<HitBatch.PackedHit> packed = new ArrayList<>();
        for (int i = 0; i < hits; i++) packed.add(new HitBatch.PackedHit(NOW.toEpochMilli() - i, "10.0.0." + i, "/p/" + i));
        return new HitBatch(1, UUID.randomUUID().toString().replace("-", "").substring(0, 16), 0, 0, client, NOW, packed);
    }

    private static QueuedMessage message(HitBatch part) {
        return new QueuedMessage(UUID.randomUUID().toString(), new String(Json.write(part), StandardCharsets.UTF_8));
    }
}
