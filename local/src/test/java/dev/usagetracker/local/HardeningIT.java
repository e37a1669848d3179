package dev.usagetracker.local;

import static dev.usagetracker.local.LocalRuntimeE2EIT.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.crypto.EcdsaP256;
import dev.usagetracker.local.HttpJson.Reply;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Issue 18 findings 2 to 8, each as the request that showed it, against the real local runtime. */
@ExtendWith(TestStack.Extension.class)
class HardeningIT {
    static final String ADMIN_KEY = "hard-admin-key-0123456789";
    static LocalRuntime runtime;
    static HttpJson api;
    static TestStack stack;

    @BeforeAll
    static void start(TestStack s) throws Exception {
        stack = s;
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0,
                Optional.of(s.emulators()), Map.of("AUTH_CACHE_SECONDS", "0", "RateLimitRegister", "1000/1m"),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 2, 4, false, "hard-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    // --- finding 4: one token, one string ------------------------------------------------------

    @Test
    void onlyTheCanonicalLowSSpellingOfATokenIsAccepted() {
        String key = register("jwt").get("api_key").asText();
        Base64.Decoder dec = Base64.getUrlDecoder();
        Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
        boolean sawAlphabetVariant = false;
        // KMS signs with a random s: about half of unnormalised signatures would be high-S
        for (int i = 0; i < 12; i++) {
            String token = token(key);
            String[] parts = token.split("\\.");
            byte[] sig = dec.decode(parts[2]);
            assertThat(EcdsaP256.isCanonical(sig)).as("minted low-S").isTrue();
            assertThat(api.get("/api/usage/daily", bearer(token)).status()).isEqualTo(200);

            String twin = parts[0] + "." + parts[1] + "." + enc.encodeToString(EcdsaP256.twin(sig));
            assertProblem(api.get("/api/usage/daily", bearer(twin)), 401);
            assertProblem(api.get("/api/usage/daily", bearer(token + "==")), 401);
            String standard = parts[0] + "." + parts[1] + "." + parts[2].replace('-', '+').replace('_', '/');
            if (!standard.equals(token)) {
                sawAlphabetVariant = true;
                assertProblem(api.get("/api/usage/daily", bearer(standard)), 401);
            }
            // the authorizer (/api/usage/*) and the handlers' own verification (POST /api/logs) agree
            assertProblem(api.post("/api/logs", Map.of("ip", "192.0.2.1", "endpoint", "/x"), bearer(twin)), 401);
        }
        assertThat(sawAlphabetVariant).isTrue();
    }

    // --- helpers -------------------------------------------------------------------------------

    static JsonNode register(String prefix) {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Reply r = api.post("/api/register", Map.of("name", prefix, "email", prefix + "-" + suffix + "@example.com",
                "client_id", prefix + "-" + suffix), Map.of());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    static String token(String key) {
        Reply r = api.post("/api/token", "application/json", "", Map.of("X-API-Key", key));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("access_token").asText();
    }

    static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }
}
