package dev.usagetracker.config;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.apigatewaymanagementapi.ApiGatewayManagementApiClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The only place SDK clients are built: the UrlConnection HTTP client (fastest cold start), short
 * timeouts so a dead dependency fails fast, the SDK's standard retries with jittered backoff, and the
 * endpoint override that points the same jar at the local emulators, LocalStack or AWS.
 */
public final class AwsClients {
    private AwsClients() {}

    public static DynamoDbClient dynamo(Config config) {
        return configure(DynamoDbClient.builder(), config, "dynamodb").build();
    }

    public static SqsClient sqs(Config config) {
        return configure(SqsClient.builder(), config, "sqs").build();
    }

    public static KmsClient kms(Config config) {
        return configure(KmsClient.builder(), config, "kms").build();
    }

    /** The WebSocket API's {@code @connections} endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
    public static ApiGatewayManagementApiClient connections(Config config, URI callbackUrl) {
        return configure(ApiGatewayManagementApiClient.builder(), config, "apigateway").endpointOverride(callbackUrl).build();
    }

    /**
     * The same, sending {@code secret} in {@link dev.usagetracker.realtime.StreamSettings#CALLBACK_SECRET_HEADER}: the
     * local runtime's {@code @connections} endpoint refuses calls without it (on AWS there is none; SigV4 signs the call).
     */
    public static ApiGatewayManagementApiClient connections(Config config, URI callbackUrl, java.util.Optional<String> secret) {
        if (secret.isEmpty()) return connections(config, callbackUrl);
        var builder = configure(ApiGatewayManagementApiClient.builder(), config, "apigateway").endpointOverride(callbackUrl);
        builder.overrideConfiguration(overrides(config.sdk("apigateway")).toBuilder()
                .putHeader(dev.usagetracker.realtime.StreamSettings.CALLBACK_SECRET_HEADER, secret.get()).build());
        return builder.build();
    }

    private static <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(B builder, Config config, String service) {
        SdkSettings sdk = config.sdk(service);
        builder.region(Region.of(config.region()))
                .credentialsProvider(credentials(config))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(sdk.connectTimeout())
                        .socketTimeout(sdk.attemptTimeout())
                        .build())
                .overrideConfiguration(overrides(sdk));
        config.endpoint(service).ifPresent(builder::endpointOverride);
        return builder;
    }

    private static ClientOverrideConfiguration overrides(SdkSettings sdk) {
        ClientOverrideConfiguration.Builder overrides = ClientOverrideConfiguration.builder()
                .retryStrategy(retryStrategy(sdk))
                .apiCallAttemptTimeout(sdk.attemptTimeout())
                .apiCallTimeout(sdk.callTimeout());
        // Only bench/ turns this on; off, no interceptor is installed and nothing is counted.
        if (AwsCallCounter.enabled()) overrides.addExecutionInterceptor(AwsCallCounter.instance());
        return overrides.build();
    }

    /**
     * The SDK's standard strategy with AWS's retryable errors (throttling, 5xx, I/O, timeouts), full
     * jitter so that many containers retrying after one blip do not retry in step, and its retry
     * quota on: when most calls fail the quota drains and calls fail after one attempt, which is what
     * lets a caller degrade quickly instead of multiplying load on a struggling dependency.
     */
    static RetryStrategy retryStrategy(SdkSettings sdk) {
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(sdk.maxAttempts())
                .backoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(25), Duration.ofMillis(500)))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(Duration.ofMillis(100), Duration.ofSeconds(2)))
                .circuitBreakerEnabled(true)
                .build();
    }

    private static AwsCredentialsProvider credentials(Config config) {
        // Temporary credentials (a session token: Lambda without SnapStart, assumed roles) come from the
        // default chain, which also refreshes them; a SnapStart restore gets them from the container
        // credentials endpoint, never from a snapshot.
        boolean temporary = LambdaEnvironment.get().containsKey("AWS_SESSION_TOKEN");
        if (!temporary && config.accessKeyId().isPresent() && config.secretAccessKey().isPresent()) {
            return StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(config.accessKeyId().get(), config.secretAccessKey().get()));
        }
        return DefaultCredentialsProvider.builder().build();
    }
}
