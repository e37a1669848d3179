package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Idempotency-Key on POST /api/logs, over HTTP through the function jars, against real DynamoDB and SQS. */
@ExtendWith(TestStack.Extension.class)
class IdempotencyIT {
    static final String ADMIN_KEY = "idem-admin-key-0123456789";
    static final String PREFIX = "idem-";
    static TestStack stack;
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        runtime = startRuntime();
        api = new HttpJson(runtime.baseUrl());
    }

    static LocalRuntime startRuntime() throws Exception {
        return LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                // About idempotency, not timeouts: eight cold containers racing one serialised
                // moto_server can outlast the production SDK deadlines on a loaded 2-core machine.
                Optional.of(stack.emulators()), Map.of("AWS_SDK_ATTEMPT_TIMEOUT_MS", "10000", "AWS_SDK_CALL_TIMEOUT_MS", "30000"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 2, 4, false, PREFIX));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void sameKeyAndBodyGetTheSameAnswerAndAreCountedOnce() {
        String key = newClient();
        String idem = UUID.randomUUID().toString();
        String body = "{\"hits\":[{\"ip\":\"192.0.2.1\",\"endpoint\":\"/a\"},{\"ip\":\"192.0.2.2\",\"endpoint\":\"/b\"},"
                + "{\"ip\":\"192.0.2.3\",\"endpoint\":\"/c\"}]}";
        // the same JSON with other whitespace and key order is the same request
        String sameBodyReordered = "{ \"hits\": [ {\"endpoint\":\"/a\", \"ip\":\"192.0.2.1\"}, {\"endpoint\":\"/b\",\"ip\":\"192.0.2.2\"},"
                + " {\"endpoint\":\"/c\",\"ip\":\"192.0.2.3\"} ] }";

        Reply first = post(key, idem, body);
        Reply second = post(key, idem, body);
        Reply third = post(key, idem, sameBodyReordered);

        for (Reply r : List.of(first, second, third)) {
            assertThat(r.status()).as(r.body()).isEqualTo(202);
            assertThat(r.json()).isEqualTo(first.json());
        }
        assertThat(awaitCount(key, 3)).isEqualTo(3);
    }

    @Test
    void sameKeyWithAnotherBodyIs422AndCountsNothingNew() {
        String key = newClient();
        String idem = UUID.randomUUID().toString();
        assertThat(post(key, idem, hits(2)).status()).isEqualTo(202);

        Reply reused = post(key, idem, hits(5));

        LocalRuntimeE2EIT.assertProblem(reused, 422);
        assertThat(reused.json().get("type").asText()).endsWith("/idempotency-key-reused");
        assertThat(awaitCount(key, 2)).isEqualTo(2);
    }

    @Test
    void concurrentRequestsWithOneKeyAreCountedOnce() throws Exception {
        String key = newClient();
        String idem = UUID.randomUUID().toString();
        String body = hits(7);
        int racers = 8;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < racers; i++) replies.add(pool.submit(() -> {
                go.await();
                return post(key, idem, body);
            }));
            go.countDown();
            for (Future<Reply> f : replies) {
                Reply r = f.get();
                assertThat(r.status()).as(r.body()).isEqualTo(202);
                assertThat(r.json().get("accepted").asInt()).isEqualTo(7);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(awaitCount(key, 7)).isEqualTo(7);
    }

    @Test
    void keysSurviveARestartAndBelongToOneClient() throws Exception {
        String key = newClient();
        String other = newClient();
        String idem = UUID.randomUUID().toString();
        assertThat(post(key, idem, hits(4)).status()).isEqualTo(202);
        assertThat(awaitCount(key, 4)).isEqualTo(4);

        // every container of the first runtime is gone; the key lives in DynamoDB
        runtime.close();
        runtime = startRuntime();
        api = new HttpJson(runtime.baseUrl());

        Reply replay = post(key, idem, hits(4));
        assertThat(replay.status()).as(replay.body()).isEqualTo(202);
        assertThat(replay.json().get("accepted").asInt()).isEqualTo(4);
        LocalRuntimeE2EIT.assertProblem(post(key, idem, hits(1)), 422);
        // the same key from another client is that client's own request
        assertThat(post(other, idem, hits(1)).status()).isEqualTo(202);
        assertThat(awaitCount(other, 1)).isEqualTo(1);
        assertThat(awaitCount(key, 4)).isEqualTo(4);
    }

    @Test
    void malformedKeyIs400() {
        String key = newClient();
        Reply tooLong = post(key, "k".repeat(256), hits(1));
        LocalRuntimeE2EIT.assertProblem(tooLong, 400);
        assertThat(tooLong.json().get("errors").get(0).get("field").asText()).isEqualTo("Idempotency-Key");
        LocalRuntimeE2EIT.assertProblem(post(key, "has space", hits(1)), 400);
    }

    // --- helpers -------------------------------------------------------------------------------

    private static String newClient() {
        String id = "idem-" + UUID.randomUUID().toString().substring(0, 8);
        Reply r = api.post("/api/register", Map.of("name", id, "email", id + "@example.com", "client_id", id), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("api_key").asText();
    }

    private static Reply post(String apiKey, String idempotencyKey, String body) {
        return api.post("/api/logs", "application/json", body, Map.of("X-API-Key", apiKey, "Idempotency-Key", idempotencyKey));
    }

    /** Identical hits: only the key can tell two requests apart. */
    private static String hits(int n) {
        StringBuilder sb = new StringBuilder("{\"hits\":[");
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ",").append("{\"ip\":\"198.51.100.7\",\"endpoint\":\"/same\"}");
        return sb.append("]}").toString();
    }

    /** Waits for the consumer, then makes sure the count holds still (no late second count). */
    private static long awaitCount(String apiKey, long expected) {
        String token = LocalRuntimeE2EIT.token(api, apiKey);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long count = -1;
        while (System.nanoTime() < deadline) {
            count = total(api.get("/api/usage/daily?days=2", Map.of("Authorization", "Bearer " + token)).json());
            if (count >= expected) {
                ManagedProcess.sleep(1_500);
                return total(api.get("/api/usage/daily?days=2", Map.of("Authorization", "Bearer " + token)).json());
            }
            ManagedProcess.sleep(200);
        }
        return count;
    }

    private static long total(JsonNode daily) {
        return LocalRuntimeE2EIT.total(daily);
    }
}
