package dev.usagetracker.crypto;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;

/**
 * KMS envelope encryption with AES-256-GCM. A container asks KMS for one data key and reuses it for
 * an hour; each ciphertext carries the KMS-wrapped data key (which names the KMS key and its version),
 * so rows written under older data keys or a rotated KMS key stay readable.
 *
 * <p>Format: {@code 0x01 | u16 wrapped-key length | wrapped key | 12-byte IV | ciphertext+tag}.
 */
public final class EnvelopeCipher implements FieldCipher {
    private static final byte FORMAT_V1 = 1;
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final Duration DATA_KEY_LIFETIME = Duration.ofHours(1);
    private static final Map<String, String> CONTEXT = Map.of("purpose", "usage-tracker-fields");

    private final KmsClient kms;
    private final String keyId;
    private final Clock clock;
    private final SecureRandom random = dev.usagetracker.config.Entropy.random(); // restore-safe (SnapStart)
    private final Cache<String, byte[]> unwrapped = Caffeine.newBuilder().maximumSize(1_000).build();
    private volatile DataKey current;

    private record DataKey(byte[] plaintext, byte[] wrapped, Instant expires) {}

    public EnvelopeCipher(KmsClient kms, String keyId, Clock clock) {
        this.kms = kms;
        this.keyId = keyId;
        this.clock = clock;
    }

    @Override
    public byte[] encrypt(byte[] plaintext, String rowId) {
        DataKey key = dataKey();
        byte[] iv = new byte[IV_BYTES];
        random.nextBytes(iv);
        byte[] sealed = gcm(Cipher.ENCRYPT_MODE, key.plaintext(), iv, rowId, plaintext);
        return ByteBuffer.allocate(1 + 2 + key.wrapped().length + IV_BYTES + sealed.length)
                .put(FORMAT_V1)
                .putShort((short) key.wrapped().length)
                .put(key.wrapped())
                .put(iv)
                .put(sealed)
                .array();
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, String rowId) {
        ByteBuffer in = ByteBuffer.wrap(ciphertext);
        if (in.get() != FORMAT_V1) throw new IllegalArgumentException("unknown ciphertext format");
        byte[] wrapped = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(wrapped);
        byte[] iv = new byte[IV_BYTES];
        in.get(iv);
        byte[] sealed = new byte[in.remaining()];
        in.get(sealed);
        byte[] key = unwrapped.get(Base64.getEncoder().encodeToString(wrapped), k -> kms.decrypt(r -> r
                .ciphertextBlob(SdkBytes.fromByteArray(wrapped))
                .encryptionContext(CONTEXT)).plaintext().asByteArray());
        return gcm(Cipher.DECRYPT_MODE, key, iv, rowId, sealed);
    }

    private DataKey dataKey() {
        DataKey key = current;
        if (key == null || clock.instant().isAfter(key.expires())) {
            synchronized (this) {
                key = current;
                if (key == null || clock.instant().isAfter(key.expires())) {
                    GenerateDataKeyResponse r = kms.generateDataKey(b -> b
                            .keyId(keyId).keySpec(DataKeySpec.AES_256).encryptionContext(CONTEXT));
                    key = new DataKey(r.plaintext().asByteArray(), r.ciphertextBlob().asByteArray(),
                            clock.instant().plus(DATA_KEY_LIFETIME));
                    unwrapped.put(Base64.getEncoder().encodeToString(key.wrapped()), key.plaintext());
                    current = key;
                }
            }
        }
        return key;
    }

    private static byte[] gcm(int mode, byte[] key, byte[] iv, String rowId, byte[] input) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, iv));
            cipher.updateAAD(rowId.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("field " + (mode == Cipher.ENCRYPT_MODE ? "encryption" : "decryption")
                    + " failed", e);
        }
    }
}
