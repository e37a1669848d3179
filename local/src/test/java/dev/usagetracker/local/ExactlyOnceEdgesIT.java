package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.Json;
import dev.usagetracker.store.DynamoClientStore;
import dev.usagetracker.store.DynamoThresholdClaims;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The server-side findings of issue 29, each played through the functions' code against the real
 * emulators on a clock the test moves ({@link InProcessStack}): a keyed retry of a request that landed
 * is a replay before any gate and before time-dependent validation, whatever state its key was left in;
 * hits without a timestamp take the first attempt's receive time; refused quotas are checked in the month
 * each hit counts in; an erased and registered-again id gets its quota alerts.
 */
@ExtendWith(TestStack.Extension.class)
class ExactlyOnceEdgesIT {
    static final Principal ADMIN = new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN));
    static InProcessStack stack;
    static DynamoClientStore clients;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = InProcessStack.start(s, "edges-", Map.of("PlanCacheSeconds", "1", "PLAN_CACHE_SECONDS", "1"),
                Instant.parse("2026-12-06T10:30:00Z"));
        clients = new DynamoClientStore(stack.app.clients().dynamo(), stack.config.clientsTable(), stack.clock);
    }

    @AfterAll
    static void stop() {
        if (stack != null) stack.close();
    }

    /**
     * Finding 1: the first attempt landed (its hits are in SQS) but its key was never marked acknowledged
     * (the function died after the send, or the mark failed). Its retry used to go through the rate limit
     * and the quota, which by then counted the first attempt's own hits: 429 for hits that were counted.
     */
    @Test
    void aKeyedRetryOfARequestThatLandedWithoutItsMarkIsAReplayNotA429() {
        String plan = plan(Map.of("limits", Map.of("ingest", "1/1h"), "monthly_quota", 5, "enforcement", "refuse"));
        String id = client();
        String apiKey = stack.register(id);
        clients.assignPlan(id, plan);
        String body = hits(5, null);
        String idem = UUID.randomUUID().toString();

        stack.failCompletes.set(1);
        assertThat(stack.postLogs(apiKey, idem, body).getStatusCode()).isEqualTo(202); // the answer is lost
        assertThat(stack.failCompletes.get()).as("the mark failed").isZero();
        stack.drain();
        assertThat(stack.counted(id, 1)).isEqualTo(5);

        APIGatewayV2HTTPResponse retry = stack.postLogs(apiKey, idem, body);
        assertThat(retry.getStatusCode()).as(retry.getBody()).isEqualTo(202);
        assertThat(Json.readTree(retry.getBody().getBytes()).get("accepted").asInt()).isEqualTo(5);
        APIGatewayV2HTTPResponse again = stack.postLogs(apiKey, idem, body);
        assertThat(again.getStatusCode()).as("now marked: a plain replay").isEqualTo(202);
        stack.drain();
        assertThat(stack.counted(id, 1)).as("counted once").isEqualTo(5);
        // the gates still hold for new hits
        assertThat(stack.postLogs(apiKey, UUID.randomUUID().toString(), hits(1, null)).getStatusCode()).isEqualTo(429);
    }

    /**
     * Finding 3: validation depends on the time (the retention window), and ran before the replay lookup:
     * a retry of an acknowledged batch whose oldest hit had meanwhile left the window was answered 400,
     * and an SDK then re-sent the rest under a new key.
     */
    @Test
    void aRetryOfAnAcknowledgedBatchGetsItsAnswerAfterItsHitsLeftTheRetentionWindow() {
        String id = client();
        String apiKey = stack.register(id);
        Instant edge = stack.clock.instant().minus(Duration.ofDays(stack.config.retentionDays())).plus(Duration.ofMinutes(1));
        String body = hits(3, edge);
        String idem = UUID.randomUUID().toString();
        assertThat(stack.postLogs(apiKey, idem, body).getStatusCode()).isEqualTo(202);
        stack.drain();

        stack.clock.advance(Duration.ofMinutes(2));
        APIGatewayV2HTTPResponse retry = stack.postLogs(apiKey, idem, body);

        assertThat(retry.getStatusCode()).as(retry.getBody()).isEqualTo(202);
        assertThat(Json.readTree(retry.getBody().getBytes()).get("accepted").asInt()).isEqualTo(3);
        // the same batch under a new key is judged now: too old
        assertThat(stack.postLogs(apiKey, UUID.randomUUID().toString(), body).getStatusCode()).isEqualTo(400);
        stack.drain();
        assertThat(stack.counted(id, stack.config.retentionDays() + 1)).isEqualTo(3);
    }

    /**
     * Finding 7: hits without a timestamp took each attempt's own clock. 91 hits in 91 distinct hours over
     * 5 days plus 3 without a timestamp fill one part (96 day and hour aggregates) at 10:30; retried at
     * 11:30 they took 11:00, one aggregate more, and were packed 91 + 3: part #1 was new, so 3 hits were
     * counted twice.
     */
    @Test
    void aRetryAcrossAnHourPacksTheSamePartsAsTheFirstAttempt() {
        String id = client();
        String apiKey = stack.register(id);
        Instant first = stack.clock.instant();
        StringBuilder body = new StringBuilder("{\"hits\":[");
        Instant hour = first.truncatedTo(java.time.temporal.ChronoUnit.HOURS);
        for (int i = 0; i < 91; i++) {
            body.append(i == 0 ? "" : ",").append("{\"ip\":\"192.0.2.1\",\"endpoint\":\"/h\",\"timestamp\":\"")
                    .append(hour.minus(Duration.ofHours(i)).plusSeconds(60)).append("\"}");
        }
        for (int i = 0; i < 3; i++) body.append(",{\"ip\":\"192.0.2.2\",\"endpoint\":\"/now\"}");
        body.append("]}");
        String idem = UUID.randomUUID().toString();

        stack.failCompletes.set(1);
        assertThat(stack.postLogs(apiKey, idem, body.toString()).getStatusCode()).isEqualTo(202);
        stack.drain();
        assertThat(stack.counted(id, 6)).isEqualTo(94);

        stack.clock.advance(Duration.ofHours(1));
        APIGatewayV2HTTPResponse retry = stack.postLogs(apiKey, idem, body.toString());
        assertThat(retry.getStatusCode()).as(retry.getBody()).isEqualTo(202);
        stack.drain();

        assertThat(stack.counted(id, 6)).as("counted once").isEqualTo(94);
        stack.clock.set(first);
    }

    /**
     * Finding 6: a refused quota was checked against the current month only, while hits count in the
     * month of their own timestamps: backdated hits (or an SDK backlog held back until the 1st) landed in
     * a month already at its quota.
     */
    @Test
    void aRefusedQuotaIsCheckedInTheMonthEachHitCountsIn() {
        String plan = plan(Map.of("monthly_quota", 10, "enforcement", "refuse"));
        Instant before = stack.clock.instant();
        stack.clock.set(Instant.parse("2026-12-01T00:30:00Z"));
        try {
            String id = client();
            String apiKey = stack.register(id);
            clients.assignPlan(id, plan);
            Instant november = Instant.parse("2026-11-30T23:00:00Z");
            assertThat(stack.postLogs(apiKey, null, hits(10, november)).getStatusCode()).isEqualTo(202);
            stack.drain();
            assertThat(stack.app.plans().monthlyUsage().used(id, YearMonth.of(2026, 11))).isEqualTo(10);

            APIGatewayV2HTTPResponse backdated = stack.postLogs(apiKey, null, hits(1, november.plusSeconds(600)));
            assertThat(backdated.getStatusCode()).as(backdated.getBody()).isEqualTo(429);
            assertThat(backdated.getBody()).contains("quota-exceeded").contains("2026-11");
            // December has its own quota
            assertThat(stack.postLogs(apiKey, null, hits(10, Instant.parse("2026-12-01T00:10:00Z"))).getStatusCode()).isEqualTo(202);
            // a batch with hits in both months is refused whole while either month is over
            String mixed = "{\"hits\":[{\"ip\":\"192.0.2.1\",\"endpoint\":\"/a\",\"timestamp\":\"2026-12-01T00:11:00Z\"},"
                    + "{\"ip\":\"192.0.2.1\",\"endpoint\":\"/a\",\"timestamp\":\"2026-11-30T23:59:00Z\"}]}";
            stack.drain();
            assertThat(stack.postLogs(apiKey, null, mixed).getStatusCode()).isEqualTo(429);
            assertThat(stack.app.plans().monthlyUsage().used(id, YearMonth.of(2026, 11))).isEqualTo(10);
            assertThat(stack.app.plans().monthlyUsage().used(id, YearMonth.of(2026, 12))).isEqualTo(10);
        } finally {
            stack.clock.set(before);
        }
    }

    /**
     * Finding 10: the threshold detector remembered per (client, month) which thresholds were claimed and
     * never forgot: an id erased (its claims deleted) and registered again got no quota alerts for the
     * rest of the month from a warm consumer.
     */
    @Test
    void anIdErasedAndRegisteredAgainGetsItsQuotaAlertsFromAWarmConsumer() throws Exception {
        String plan = plan(Map.of("monthly_quota", 10, "alert_thresholds", List.of(80, 100)));
        String id = client();
        YearMonth month = YearMonth.from(stack.clock.instant().atZone(java.time.ZoneOffset.UTC));
        DynamoThresholdClaims claims = new DynamoThresholdClaims(stack.app.clients().dynamo(), stack.config.usageTable());

        String apiKey = stack.register(id);
        clients.assignPlan(id, plan);
        assertThat(stack.postLogs(apiKey, null, hits(8, null)).getStatusCode()).isEqualTo(202);
        stack.drain();
        assertThat(claims.reached(id, month)).containsOnlyKeys(80);

        stack.erase(id);
        assertThat(claims.reached(id, month)).as("the erasure deleted the claims").isEmpty();
        stack.clock.advance(Duration.ofMinutes(1));
        String newKey = stack.register(id);
        clients.assignPlan(id, plan);
        // the consumer's cached client row lives PLAN_CACHE_SECONDS (1 s here)
        Thread.sleep(1_500);
        assertThat(stack.postLogs(newKey, null, hits(8, null)).getStatusCode()).isEqualTo(202);
        stack.drain();

        assertThat(stack.counted(id, 1)).isEqualTo(8);
        assertThat(claims.reached(id, month)).as("the new registration's 80 %").containsOnlyKeys(80);
    }

    // --- helpers -------------------------------------------------------------------------------

    private static String plan(Map<String, Object> body) {
        String name = "e" + UUID.randomUUID().toString().substring(0, 8);
        stack.app.plans().service().put(ADMIN, name, Json.MAPPER.valueToTree(body));
        return name;
    }

    private static String client() {
        return "edge-" + UUID.randomUUID().toString().substring(0, 10);
    }

    /** n hits, all at {@code at} (null: without a timestamp). */
    static String hits(int n, Instant at) {
        List<String> hits = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            hits.add("{\"ip\":\"198.51.100." + (i % 250 + 1) + "\",\"endpoint\":\"/e/" + i + "\""
                    + (at == null ? "" : ",\"timestamp\":\"" + at + "\"") + "}");
        }
        return "{\"hits\":[" + String.join(",", hits) + "]}";
    }
}
