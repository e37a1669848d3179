package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.HttpJson.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reads when the cache or the database goes away, with emulators of its own (they are killed):
 * Redis down → the database answers (MISS); database down too → the last good answer, marked STALE,
 * or 503 with Retry-After when there is none.
 */
class CacheFallbackIT {
    static Emulators emulators;
    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start() throws Exception {
        emulators = Emulators.start(TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/fallback"), 0, 0, 0);
        // One container per function, so the last-good answer is in the container that serves the read.
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(emulators), Map.of("LOCAL_SCHEDULE_SECONDS", "3600", "RATE_LIMIT_MODE", "local"),
                Optional.of("fallback-admin-key-0123456789"), Optional.of(Duration.ofMillis(100)), 20, 1, false, "fb-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (emulators != null && emulators.moto() != null) emulators.moto().resume();
        if (runtime != null) runtime.close();
        if (emulators != null) emulators.close();
    }

    @Test
    void redisDownFallsBackToTheDatabaseAndDatabaseDownToTheLastGoodAnswer() {
        JsonNode client = CachingIT.registerWith(api, "fallback");
        String key = client.get("api_key").asText();
        String token = CachingIT.tokenWith(api, key);
        assertThat(api.post("/api/logs", Map.of("hits", List.of(CachingIT.hit(), CachingIT.hit())), Map.of("X-API-Key", key)).status())
                .isEqualTo(202);
        CachingIT.awaitTotalWith(api, token, 2);
        // a read racing the consumer's version bump may cache under the old version: wait for a HIT
        CachingIT.awaitHeader(api, token, "X-Cache", "HIT");

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
