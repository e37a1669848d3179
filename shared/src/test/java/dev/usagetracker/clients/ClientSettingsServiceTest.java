package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.auth.ApiKeys;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.ClientSettingsService.RotationRequest;
import dev.usagetracker.clients.ClientSettingsService.SettingsRequest;
import dev.usagetracker.http.ApiException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientSettingsServiceTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00Z");
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final InMemoryClientStore store = new InMemoryClientStore(clock);
    private final RegistrationServiceTest.LocalHmacHasher hasher = new RegistrationServiceTest.LocalHmacHasher();
    private final ClientSettingsService settings = new ClientSettingsService(store, hasher,
            new RegistrationServiceTest.LocalAesGcmCipher(), clock);
    private static final String ORIGINAL = "ut_original_original_original";
    /** The client, authenticated with its original key. */
    private final Principal acme = holding(ORIGINAL);

    /** The principal a request with this key of acme's gets ({@code akh}: the key's id). */
    private Principal holding(String apiKey) {
        return new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT), Principal.DEFAULT_PLAN,
                Credentials.keyId(hasher.hash(ApiKeys.HASH_PURPOSE, apiKey)), 0, 0);
    }

    ClientSettingsServiceTest() {
        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, ORIGINAL), new Client("acme", "Acme", Role.CLIENT, List.of(), NOW));
    }

    @Test
    void rotationKeepsTheOldKeyForTheGracePeriodOnly() {
        var rotated = settings.rotateKey(acme, new RotationRequest(600L));
        assertThat(rotated.apiKey()).startsWith("ut_");
        assertThat(rotated.previousKeyExpiresAt()).isEqualTo(NOW.plusSeconds(600).toString());
        assertThat(store.findByApiKeyHash(hasher.hash(ApiKeys.HASH_PURPOSE, rotated.apiKey()))).isPresent();
        assertThat(store.findByApiKeyHash(hasher.hash(ApiKeys.HASH_PURPOSE, ORIGINAL))).isPresent();

        var immediate = settings.rotateKey(holding(rotated.apiKey()), new RotationRequest(0L));
        assertThat(store.findByApiKeyHash(hasher.hash(ApiKeys.HASH_PURPOSE, rotated.apiKey()))).isEmpty();
        assertThat(store.findByApiKeyHash(hasher.hash(ApiKeys.HASH_PURPOSE, immediate.apiKey()))).isPresent();
    }

    @Test
    void aRotationReplacesTheKeyItWasAskedWithOrNone() {
        var first = settings.rotateKey(acme, new RotationRequest(600L));
        // a second request with the same key (concurrent, or a replay) must not replace the key just issued
        Throwable again = catchThrowable(() -> settings.rotateKey(acme, new RotationRequest(0L)));
        assertThat(((ApiException) again).status()).isEqualTo(409);
        assertThat(store.findByApiKeyHash(hasher.hash(ApiKeys.HASH_PURPOSE, first.apiKey()))).isPresent();
    }

    @Test
    void graceDefaultsToADayAndIsBounded() {
        assertThat(settings.rotateKey(acme, null).previousKeyExpiresAt()).isEqualTo(NOW.plusSeconds(86_400).toString());
        // the bounds are checked before anything else
        for (long bad : new long[] {-1, 604_801}) {
            Throwable t = catchThrowable(() -> settings.rotateKey(acme, new RotationRequest(bad)));
            assertThat(((ApiException) t).status()).isEqualTo(400);
            assertThat(((ApiException) t).errors().getFirst().field()).isEqualTo("grace_seconds");
        }
    }

    @Test
    void allowlistIsNormalisedAndMustIncludeTheCaller() {
        var updated = settings.update(acme, new SettingsRequest(List.of("10.1.2.3/8", "198.51.100.7")), "198.51.100.7");
        assertThat(updated.allowedIps()).containsExactly("10.0.0.0/8", "198.51.100.7/32");
        assertThat(store.find("acme").orElseThrow().allowedIps()).containsExactly("10.0.0.0/8", "198.51.100.7/32");

        Throwable lockout = catchThrowable(() -> settings.update(acme, new SettingsRequest(List.of("10.0.0.0/8")), "198.51.100.7"));
        assertThat(((ApiException) lockout).status()).isEqualTo(400);
        assertThat(settings.update(acme, new SettingsRequest(List.of()), "198.51.100.7").allowedIps()).isEmpty();

        Throwable invalid = catchThrowable(() -> settings.update(acme, new SettingsRequest(List.of("ok", "1.2.3.4/40")), "1.2.3.4"));
        assertThat(((ApiException) invalid).errors()).extracting(ApiException.FieldError::field)
                .containsExactly("allowed_ips[0]", "allowed_ips[1]");
        assertThat(((ApiException) catchThrowable(() -> settings.update(acme, new SettingsRequest(null), "1.2.3.4"))).status())
                .isEqualTo(400);
    }
}
