package dev.usagetracker.forwarder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The usage-tracker API key, from Secrets Manager ({@code API_KEY_SECRET_ID}: the secret string is the key, or
 * JSON with {@code api_key}) or an SSM SecureString ({@code API_KEY_PARAMETER}), never a plain environment
 * variable. Read on first use and kept for the container's life; never logged. A rotation reaches a container
 * when it is replaced (a 401 fails the invocation, and the retry may land on a fresh container: documented).
 */
public final class ApiKeySource implements Supplier<String> {
    private final Supplier<String> read;
    private volatile String key;

    ApiKeySource(Supplier<String> read) {
        this.read = read;
    }

    @Override
    public String get() {
        String k = key;
        if (k == null) {
            synchronized (this) {
                if (key == null) {
                    String value = read.get();
                    if (value == null || value.isBlank()) throw new IllegalStateException("the API key's secret is empty");
                    key = value.strip();
                }
                k = key;
            }
        }
        return k;
    }

    public static ApiKeySource fromEnvironment(Map<String, String> env) {
        String secretId = blankToNull(env.get("API_KEY_SECRET_ID"));
        String parameter = blankToNull(env.get("API_KEY_PARAMETER"));
        if ((secretId == null) == (parameter == null)) {
            throw new IllegalStateException("set exactly one of API_KEY_SECRET_ID (Secrets Manager) and API_KEY_PARAMETER (SSM SecureString)");
        }
        if (secretId != null) {
            return new ApiKeySource(() -> {
                try (SecretsManagerClient sm = configure(SecretsManagerClient.builder(), env, "SECRETSMANAGER").build()) {
                    return keyFrom(sm.getSecretValue(r -> r.secretId(secretId)).secretString());
                }
            });
        }
        return new ApiKeySource(() -> {
            try (SsmClient ssm = configure(SsmClient.builder(), env, "SSM").build()) {
                return ssm.getParameter(r -> r.name(parameter).withDecryption(true)).parameter().value();
            }
        });
    }

    /** A secret string is the key itself, or a JSON object holding it under {@code api_key}. */
    static String keyFrom(String secret) {
        if (secret != null && secret.strip().startsWith("{")) {
            try {
                JsonNode node = new ObjectMapper().readTree(secret);
                if (node.hasNonNull("api_key")) return node.get("api_key").asText();
            } catch (IOException e) {
                throw new IllegalStateException("the secret is neither a key nor JSON with api_key");
            }
            throw new IllegalStateException("the secret's JSON has no api_key");
        }
        return secret;
    }

    private static <B extends software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<B, ?>
            & software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder<B, ?>> B configure(B builder, Map<String, String> env, String service) {
        builder.httpClientBuilder(UrlConnectionHttpClient.builder());
        Optional.ofNullable(blankToNull(env.get("AWS_REGION"))).map(Region::of).ifPresent(builder::region);
        // The SDK reads AWS_ENDPOINT_URL[_SERVICE] from the process environment itself; tests pass a map.
        Optional.ofNullable(blankToNull(env.get("AWS_ENDPOINT_URL_" + service)))
                .or(() -> Optional.ofNullable(blankToNull(env.get("AWS_ENDPOINT_URL"))))
                .map(URI::create).ifPresent(builder::endpointOverride);
        builder.credentialsProvider(credentials(env));
        return builder;
    }

    private static AwsCredentialsProvider credentials(Map<String, String> env) {
        String id = blankToNull(env.get("AWS_ACCESS_KEY_ID"));
        String secret = blankToNull(env.get("AWS_SECRET_ACCESS_KEY"));
        if (id != null && secret != null && blankToNull(env.get("AWS_SESSION_TOKEN")) == null) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
