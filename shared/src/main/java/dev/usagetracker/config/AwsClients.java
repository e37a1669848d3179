package dev.usagetracker.config;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
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
        return configure(ApiGatewayManagementApiClient.builder(), config, "execute-api").endpointOverride(callbackUrl).build();
    }

    private static <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(B builder, Config config, String service) {
        builder.region(Region.of(config.region()))
                .credentialsProvider(credentials(config))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(5))
                        .build())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(Duration.ofSeconds(5))
                        .apiCallTimeout(Duration.ofSeconds(12))
                        .build());
        config.endpoint(service).ifPresent(builder::endpointOverride);
        return builder;
    }

    private static AwsCredentialsProvider credentials(Config config) {
        if (config.accessKeyId().isPresent() && config.secretAccessKey().isPresent()) {
            return StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(config.accessKeyId().get(), config.secretAccessKey().get()));
        }
        return DefaultCredentialsProvider.builder().build();
    }
}
