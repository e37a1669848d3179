package dev.usagetracker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SdkSettingsTest {

    @Test
    void sqsGivesUpBeforeDynamoDbSoIngestFailsOverQuickly() {
        SdkSettings sqs = SdkSettings.from(Map.of(), "sqs");
        SdkSettings dynamo = SdkSettings.from(Map.of(), "dynamodb");
        assertThat(sqs.callTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(dynamo.callTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(sqs.maxAttempts()).isEqualTo(3);
    }

    @Test
    void environmentOverridesAllServicesAndASuffixOverridesOne() {
        Map<String, String> env = Map.of("AWS_SDK_CALL_TIMEOUT_MS", "12000", "AWS_SDK_ATTEMPT_TIMEOUT_MS", "5000",
                "AWS_SDK_CALL_TIMEOUT_MS_SQS", "9000", "AWS_MAX_ATTEMPTS", "1");
        assertThat(SdkSettings.from(env, "dynamodb").callTimeout()).isEqualTo(Duration.ofSeconds(12));
        assertThat(SdkSettings.from(env, "sqs").callTimeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(SdkSettings.from(env, "kms").attemptTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(SdkSettings.from(env, "kms").maxAttempts()).isEqualTo(1);
        assertThat(Config.from(env).sdk("sqs").callTimeout()).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    void aCallTimeoutShorterThanOneAttemptIsRejected() {
        assertThatThrownBy(() -> SdkSettings.from(Map.of("AWS_SDK_CALL_TIMEOUT_MS", "100"), "dynamodb"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void retryStrategyUsesTheConfiguredAttempts() {
        assertThat(AwsClients.retryStrategy(SdkSettings.from(Map.of("AWS_MAX_ATTEMPTS", "4"), "sqs")).maxAttempts()).isEqualTo(4);
    }
}
