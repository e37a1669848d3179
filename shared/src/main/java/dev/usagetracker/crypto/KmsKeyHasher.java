package dev.usagetracker.crypto;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;

/**
 * HMAC-SHA-256 computed by KMS (GenerateMac with an HMAC_256 key): the MAC key never leaves KMS.
 * Results are cached per container under a SHA-256 of the input, so a warm container pays one KMS
 * call per distinct key and the cache itself holds no plaintext.
 */
public final class KmsKeyHasher implements KeyHasher {
    private final KmsClient kms;
    private final String macKeyId;
    private final Cache<String, String> cache = Caffeine.newBuilder()
            .maximumSize(50_000)
            .expireAfterAccess(Duration.ofHours(1))
            .build();

    public KmsKeyHasher(KmsClient kms, String macKeyId) {
        this.kms = kms;
        this.macKeyId = macKeyId;
    }

    @Override
    public String hash(String purpose, String value) {
        byte[] message = (purpose + ':' + value).getBytes(StandardCharsets.UTF_8);
        return cache.get(sha256(message), ignored -> HexFormat.of().formatHex(kms.generateMac(r -> r
                .keyId(macKeyId)
                .macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)
                .message(SdkBytes.fromByteArray(message))).mac().asByteArray()));
    }

    private static String sha256(byte[] input) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(input));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
