package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.auth.ApiKeys;
import dev.usagetracker.auth.Role;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RegistrationServiceTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00.123456Z");
    private static final String EMAIL = "alice@example.com";

    private final InMemoryClientStore store = new InMemoryClientStore();
    private final LocalHmacHasher hasher = new LocalHmacHasher();
    private final LocalAesGcmCipher cipher = new LocalAesGcmCipher();
    private final RegistrationService service =
            new RegistrationService(store, hasher, cipher, Clock.fixed(NOW, ZoneOffset.UTC));

    // --- success --------------------------------------------------------------------------------

    @Test
    void registersAClientAndReturnsItsKeyOnce() {
        RegisteredClient registered = service.register(new Registration("Acme Shop", EMAIL, null, null));

        assertThat(registered.name()).isEqualTo("Acme Shop");
        assertThat(registered.email()).isEqualTo(EMAIL);
        assertThat(registered.apiKey()).startsWith("ut_");
        assertThat(ApiKeys.isPlausible(registered.apiKey())).isTrue();
        assertThat(registered.createdAt()).isEqualTo("2026-01-31T12:00:00.123Z");
        assertThat(store.created).singleElement().satisfies(c -> {
            assertThat(c.clientId()).isEqualTo(registered.clientId());
            assertThat(c.role()).isEqualTo(Role.CLIENT);
            assertThat(c.createdAt()).isEqualTo(Instant.parse("2026-01-31T12:00:00.123Z"));
        });
    }

    @Test
    void mintsADifferentKeyForEveryClient() {
        String first = service.register(new Registration("One", "one@example.com", null, null)).apiKey();
        String second = service.register(new Registration("Two", "two@example.com", null, null)).apiKey();

        assertThat(first).isNotEqualTo(second);
    }

    @Test
    void derivesTheGeneratedClientIdFromTheName() {
        String clientId = service.register(new Registration("  My Cool App! ", EMAIL, null, null)).clientId();

        assertThat(clientId).matches("my-cool-app-[a-z0-9]{6}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"日本語のアプリ", "A", "--", "Ω", "x"})
    void generatesAValidClientIdFromAnyName(String name) {
        String clientId = service.register(new Registration(name, EMAIL, null, null)).clientId();

        assertThat(clientId).matches("[a-z0-9_-]{3,64}");
    }

    @Test
    void generatesAValidClientIdFromAMaximalName() {
        String clientId = service.register(new Registration("Ab1 ".repeat(50), EMAIL, null, null)).clientId();

        assertThat(clientId).matches("[a-z0-9_-]{3,64}");
    }

    @Test
    void keepsAnExplicitClientId() {
        assertThat(service.register(new Registration("Acme", EMAIL, "acme_shop-1", null)).clientId())
                .isEqualTo("acme_shop-1");
    }

    @Test
    void storesNormalisedAllowedIps() {
        service.register(new Registration("Acme", EMAIL, null, List.of("203.0.113.7", "10.0.0.0/8", "2001:DB8::/32")));

        assertThat(store.created.getFirst().allowedIps())
                .containsExactly("203.0.113.7/32", "10.0.0.0/8", "2001:db8:0:0:0:0:0:0/32");
    }

    @Test
    void acceptsANameOf200Characters() {
        assertThat(service.register(new Registration("n".repeat(200), EMAIL, null, null)).name()).hasSize(200);
    }

    // --- validation -----------------------------------------------------------------------------

    static Stream<Arguments> invalidRegistrations() {
        return Stream.of(
                Arguments.of(new Registration(null, EMAIL, null, null), "name"),
                Arguments.of(new Registration("", EMAIL, null, null), "name"),
                Arguments.of(new Registration("   \t ", EMAIL, null, null), "name"),
                Arguments.of(new Registration("n".repeat(201), EMAIL, null, null), "name"),
                Arguments.of(new Registration("bell\u0007name", EMAIL, null, null), "name"),
                Arguments.of(new Registration("two\nlines", EMAIL, null, null), "name"),
                Arguments.of(new Registration("Acme", null, null, null), "email"),
                Arguments.of(new Registration("Acme", " ", null, null), "email"),
                Arguments.of(new Registration("Acme", "alice", null, null), "email"),
                Arguments.of(new Registration("Acme", "alice@example", null, null), "email"),
                Arguments.of(new Registration("Acme", "alice@@example.com", null, null), "email"),
                Arguments.of(new Registration("Acme", "al ice@example.com", null, null), "email"),
                Arguments.of(new Registration("Acme", "al\u0001ice@example.com", null, null), "email"),
                Arguments.of(new Registration("Acme", "@example.com", null, null), "email"),
                Arguments.of(new Registration("Acme", "a".repeat(65) + "@example.com", null, null), "email"),
                Arguments.of(new Registration("Acme", "a@" + "b".repeat(250) + ".com", null, null), "email"),
                Arguments.of(new Registration("Acme", EMAIL, "ab", null), "client_id"),
                Arguments.of(new Registration("Acme", EMAIL, "Acme", null), "client_id"),
                Arguments.of(new Registration("Acme", EMAIL, "acme shop", null), "client_id"),
                Arguments.of(new Registration("Acme", EMAIL, "email#abc", null), "client_id"),
                Arguments.of(new Registration("Acme", EMAIL, "a".repeat(65), null), "client_id"),
                Arguments.of(new Registration("Acme", EMAIL, "", null), "client_id"),
                Arguments.of(new Registration("Acme", EMAIL, null, List.of("10.0.0.0/8", "nope")), "allowed_ips[1]"),
                Arguments.of(new Registration("Acme", EMAIL, null, List.of("example.com")), "allowed_ips[0]"),
                Arguments.of(new Registration("Acme", EMAIL, null, Collections.singletonList(null)), "allowed_ips[0]"),
                Arguments.of(new Registration("Acme", EMAIL, null, Collections.nCopies(51, "10.0.0.1")), "allowed_ips"));
    }

    @ParameterizedTest
    @MethodSource("invalidRegistrations")
    void rejectsAnInvalidFieldAndStoresNothing(Registration registration, String field) {
        ApiException e = apiError(() -> service.register(registration));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.errors()).extracting(FieldError::field).containsExactly(field);
        assertThat(store.created).isEmpty();
        assertThat(hasher.calls).isZero();
    }

    @Test
    void reportsEveryInvalidFieldAtOnce() {
        ApiException e = apiError(() -> service.register(
                new Registration(" ", "not-an-email", "UPPER", List.of("10.0.0.1", "10.0.0.0/33", "host"))));

        assertThat(e.errors()).extracting(FieldError::field)
                .containsExactly("name", "email", "client_id", "allowed_ips[1]", "allowed_ips[2]");
    }

    // --- uniqueness -----------------------------------------------------------------------------

    @Test
    void refusesASecondClientWithTheSameEmail() {
        service.register(new Registration("First", EMAIL, null, null));

        ApiException e = apiError(() -> service.register(new Registration("Second", EMAIL, null, null)));

        assertThat(e.status()).isEqualTo(409);
        assertThat(store.created).hasSize(1);
    }

    @Test
    void treatsEmailsThatDifferOnlyInCaseAsTheSame() {
        service.register(new Registration("First", "Alice@Example.com", null, null));

        ApiException e = apiError(() -> service.register(new Registration("Second", "aLICE@example.COM", null, null)));

        assertThat(e.status()).isEqualTo(409);
        assertThat(store.created.getFirst().emailHash())
                .isEqualTo(hasher.hash(RegistrationService.EMAIL_HASH_PURPOSE, "alice@example.com"));
    }

    @Test
    void everyRegistrationConflictGetsTheSameAnswer() {
        service.register(new Registration("First", "first@example.com", "acme", null));

        ApiException email = apiError(() -> service.register(new Registration("Second", "FIRST@example.com", null, null)));
        ApiException clientId = apiError(() -> service.register(new Registration("Third", "third@example.com", "acme", null)));

        for (ApiException e : List.of(email, clientId)) {
            assertThat(List.of(e.status(), e.type(), e.title(), e.getMessage()))
                    .isEqualTo(List.of(409, email.type(), email.title(), RegistrationService.CONFLICT_DETAIL));
        }
    }

    @Test
    void refusesATakenExplicitClientId() {
        service.register(new Registration("First", "first@example.com", "acme", null));

        ApiException e = apiError(() -> service.register(new Registration("Second", "second@example.com", "acme", null)));

        assertThat(e.status()).isEqualTo(409);
        assertThat(e.getMessage()).contains("client_id");
        assertThat(store.created).hasSize(1);
    }

    @Test
    void picksAnotherGeneratedClientIdWhenTheFirstIsTaken() {
        store.clientIdCollisionsToSimulate = 1;

        RegisteredClient registered = service.register(new Registration("Acme", EMAIL, null, null));

        assertThat(store.rejectedClientIds).hasSize(1);
        assertThat(registered.clientId()).matches("acme-[a-z0-9]{6}").isNotEqualTo(store.rejectedClientIds.getFirst());
        assertThat(store.created).singleElement().extracting(NewClient::clientId).isEqualTo(registered.clientId());
    }

    @Test
    void givesUpWith409WhenGeneratedClientIdsKeepColliding() {
        store.clientIdCollisionsToSimulate = Integer.MAX_VALUE;

        ApiException e = apiError(() -> service.register(new Registration("Acme", EMAIL, null, null)));

        assertThat(e.status()).isEqualTo(409);
        assertThat(store.rejectedClientIds).hasSizeLessThan(10);
    }

    // --- secrets at rest ------------------------------------------------------------------------

    @Test
    void storesOnlyHashesAndCiphertextOfTheEmailAndKey() {
        RegisteredClient registered = service.register(new Registration("Acme", "Alice@Example.com", null, null));
        NewClient stored = store.created.getFirst();
        byte[] email = "Alice@Example.com".getBytes(StandardCharsets.UTF_8);
        byte[] emailLower = "alice@example.com".getBytes(StandardCharsets.UTF_8);
        byte[] key = registered.apiKey().getBytes(StandardCharsets.UTF_8);

        List<String> storedText = List.of(stored.clientId(), stored.name(), stored.emailHash(), stored.apiKeyHash(),
                String.join(",", stored.allowedIps()));
        for (String text : storedText) {
            assertThat(text).doesNotContainIgnoringCase("alice@example.com").doesNotContain(registered.apiKey());
        }
        for (byte[] ciphertext : List.of(stored.emailCiphertext(), stored.apiKeyCiphertext())) {
            assertThat(containsBytes(ciphertext, email)).isFalse();
            assertThat(containsBytes(ciphertext, emailLower)).isFalse();
            assertThat(containsBytes(ciphertext, key)).isFalse();
        }

        assertThat(stored.apiKeyHash()).isEqualTo(hasher.hash(ApiKeys.HASH_PURPOSE, registered.apiKey()));
        assertThat(stored.emailHash()).isNotEqualTo(stored.apiKeyHash());
    }

    @Test
    void encryptsEachSecretBoundToItsRow() {
        RegisteredClient registered = service.register(new Registration("Acme", "Alice@Example.com", null, null));
        NewClient stored = store.created.getFirst();

        assertThat(cipher.decrypt(stored.emailCiphertext(), registered.clientId()))
                .asString(StandardCharsets.UTF_8).isEqualTo("Alice@example.com"); // the domain is stored lower-cased (EmailAddress)
        assertThat(cipher.decrypt(stored.apiKeyCiphertext(), registered.clientId()))
                .asString(StandardCharsets.UTF_8).isEqualTo(registered.apiKey());
    }

    // --- helpers and fakes ----------------------------------------------------------------------

    private static boolean containsBytes(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) continue outer;
            }
            return true;
        }
        return false;
    }

    private static ApiException apiError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }

    /** HMAC-SHA-256 with a local key, in the same purpose:value form as the KMS hasher. */
    static final class LocalHmacHasher implements KeyHasher {
        private static final byte[] KEY = "test-mac-key-test-mac-key-123456".getBytes(StandardCharsets.UTF_8);
        int calls;

        @Override
        public String hash(String purpose, String value) {
            calls++;
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
                return HexFormat.of().formatHex(mac.doFinal((purpose + ':' + value).getBytes(StandardCharsets.UTF_8)));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** AES-256-GCM with a local key: IV then ciphertext+tag, the row id as AAD. */
    static final class LocalAesGcmCipher implements FieldCipher {
        private final SecretKeySpec key = new SecretKeySpec(new byte[32], "AES");
        private final SecureRandom random = new SecureRandom();

        @Override
        public byte[] encrypt(byte[] plaintext, String rowId) {
            byte[] iv = new byte[12];
            random.nextBytes(iv);
            byte[] sealed = run(Cipher.ENCRYPT_MODE, iv, rowId, plaintext);
            return ByteBuffer.allocate(iv.length + sealed.length).put(iv).put(sealed).array();
        }

        @Override
        public byte[] decrypt(byte[] ciphertext, String rowId) {
            return run(Cipher.DECRYPT_MODE, Arrays.copyOf(ciphertext, 12), rowId,
                    Arrays.copyOfRange(ciphertext, 12, ciphertext.length));
        }

        private byte[] run(int mode, byte[] iv, String rowId, byte[] input) {
            try {
                Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
                cipher.init(mode, key, new GCMParameterSpec(128, iv));
                cipher.updateAAD(rowId.getBytes(StandardCharsets.UTF_8));
                return cipher.doFinal(input);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
