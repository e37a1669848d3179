package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.localstack.LocalStackContainer;

/**
 * The same function jars against LocalStack instead of the embedded emulators: the local runtime in
 * "external endpoints" mode creates template.yaml's tables, queues and keys in LocalStack and serves
 * the API over it. Needs a Docker engine; without one JUnit reports the class as skipped.
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackIT {
    static final String ADMIN_KEY = "localstack-admin-key-0123456789";

    @Container
    static final LocalStackContainer LOCALSTACK = new LocalStackContainer("localstack/localstack:4.8")
            .withServices("dynamodb", "sqs", "kms");

    static LocalRuntime runtime;
    static HttpJson api;

    @BeforeAll
    static void start() throws Exception {
        runtime = LocalRuntime.start(new LocalRuntime.Options(TestStack.PROJECT_ROOT, "127.0.0.1", 0, Optional.empty(),
                Map.of("AWS_ENDPOINT_URL", LOCALSTACK.getEndpoint().toString(),
                        "AWS_ACCESS_KEY_ID", LOCALSTACK.getAccessKey(),
                        "AWS_SECRET_ACCESS_KEY", LOCALSTACK.getSecretKey(),
                        "AWS_REGION", LOCALSTACK.getRegion()),
                Optional.of(ADMIN_KEY), Optional.of(Duration.ofMillis(200)), 30, 2, false, "ls-"));
        api = new HttpJson(runtime.baseUrl());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) runtime.close();
    }

    @Test
    void hitIsCountedThroughLocalStack() {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        HttpJson.Reply registered = api.post("/api/register", Map.of("name", "LocalStack " + suffix,
                "email", "ls-" + suffix + "@example.com"), Map.of());
        assertThat(registered.status()).as(registered.body()).isEqualTo(201);
        String key = registered.json().get("api_key").asText();
        HttpJson.Reply accepted = api.post("/api/logs", Map.of("ip", "203.0.113.5", "endpoint", "/ls"), Map.of("X-API-Key", key));
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        JsonNode issued = api.post("/api/token", "application/json", "", Map.of("X-API-Key", key)).json();
        String token = issued.get("access_token").asText();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long total = 0;
        while (total < 1 && System.nanoTime() < deadline) {
            total = LocalRuntimeE2EIT.total(api.get("/api/usage/daily?days=1", LocalRuntimeE2EIT.bearer(token)).json());
            ManagedProcess.sleep(500);
        }
        assertThat(total).isEqualTo(1);
    }
}
