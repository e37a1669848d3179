package dev.usagetracker.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.clients.AdminChange;
import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.ClientSettingsService.RotationRequest;
import dev.usagetracker.clients.Credentials;
import dev.usagetracker.clients.InMemoryClientStore;
import dev.usagetracker.clients.RegistrationService;
import dev.usagetracker.clients.Registration;
import dev.usagetracker.crypto.FieldCipher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.threeten.extra.MutableClock;
import org.junit.jupiter.api.Test;

/**
 * The revocation rules of {@link Authenticator} against a mutable clock and an in-memory signal: a
 * cached row is re-read as soon as the signal moves, and trusted until its TTL only while the signal
 * cannot be read.
 */
class RevocationTest {
    private static final String IP = "198.51.100.4";

    private final MutableClock clock = MutableClock.of(Instant.parse("2026-03-01T10:00:00Z"), ZoneOffset.UTC);
    private final InMemoryClientStore store = new InMemoryClientStore(clock);
    private final AuthenticatorTest.CountingHasher hasher = new AuthenticatorTest.CountingHasher();
    private final FakeSignal signal = new FakeSignal(store);
    private final TokenService tokens = new TokenService(TokenServiceTest.InMemorySigningKeys.generate(),
            "https://usage-tracker.test", "usage-tracker-api", Duration.ofMinutes(15), clock);
    private final Authenticator authenticator = new Authenticator(store, hasher, tokens, List.of("0.0.0.0/0", "::/0"),
            clock, Duration.ofSeconds(60), signal);
    private final FieldCipher cipher = new FieldCipher() {
        @Override
        public byte[] encrypt(byte[] plaintext, String context) {
            return plaintext.clone();
        }

        @Override
        public byte[] decrypt(byte[] ciphertext, String context) {
            return ciphertext.clone();
        }
    };
    private final ClientSettingsService settings = new ClientSettingsService(store, hasher, cipher, clock, signal);
    private final String key = new RegistrationService(store, hasher, cipher, clock)
            .register(new Registration("Victim", "victim@example.com", "victim", null)).apiKey();

    @Test
    void rotationWithoutGraceRevokesTheOldKeyAndItsTokensAtOnceAndAStolenTokenCannotRotate() {
        Principal owner = authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        String t0 = tokens.issue(owner.clientId(), owner.role(), owner.akh()).accessToken();
        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);

        Throwable stolen = catchThrowable(() -> authenticator.apiKeyItself(request(Map.of("Authorization", "Bearer " + t0)), "Rotating the API key"));
        assertThat(((ApiException) stolen).status()).isEqualTo(403);

        String k1 = settings.rotateKey(owner, new RotationRequest(0L)).apiKey();

        assertThat(status(() -> authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(401);
        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
        Principal again = authenticator.apiKey(request(Map.of("X-API-Key", k1)), Optional.empty());
        assertThat(authenticator.verdict(again, IP).outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);
        // the stream re-check of a principal from the old token
        Principal fromT0 = tokens.verify(t0);
        assertThat(authenticator.verdict(fromT0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
    }

    @Test
    void theGracePeriodEndsForTheOldKeyAndItsTokensWithoutAnyFurtherSignal() {
        Principal owner = authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        String t0 = tokens.issue(owner.clientId(), owner.role(), owner.akh()).accessToken();
        settings.rotateKey(owner, new RotationRequest(120L));
        assertThat(authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()).clientId()).isEqualTo("victim");
        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);

        clock.add(Duration.ofSeconds(121));

        assertThat(status(() -> authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(401);
        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
    }

    @Test
    void disablingRefusesEverythingWith403AndTokensFromBeforeStayDeadAfterReEnabling() {
        Principal owner = authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        String t0 = tokens.issue(owner.clientId(), owner.role(), owner.akh()).accessToken();
        store.administer("victim", new AdminChange(Optional.empty(), Optional.of(true), Optional.empty()), clock.instant());
        signal.changed("victim");

        ApiException byKey = (ApiException) catchThrowable(() -> authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()));
        assertThat(byKey.status()).isEqualTo(403);
        assertThat(byKey.type()).isEqualTo("client-disabled");
        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.DISABLED);

        clock.add(Duration.ofSeconds(5));
        store.administer("victim", new AdminChange(Optional.empty(), Optional.of(false), Optional.empty()), clock.instant());
        signal.changed("victim");

        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
        Principal back = authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        String t1 = tokens.issue(back.clientId(), back.role(), back.akh()).accessToken();
        assertThat(authenticator.verdict("Bearer " + t1, IP).outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);
    }

    @Test
    void anErasingClientsCredentialsAreInvalid() {
        Principal owner = authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        String t0 = tokens.issue(owner.clientId(), owner.role(), owner.akh()).accessToken();
        store.setState("victim", false, Credentials.ERASING, clock.instant().getEpochSecond() + 1);
        signal.changed("victim");

        assertThat(status(() -> authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(401);
        assertThat(authenticator.verdict("Bearer " + t0, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
    }

    @Test
    void aCachedRowIsTrustedOnlyUntilItsTtlWhileTheSignalIsDown() throws InterruptedException {
        // the cache's TTL runs on the JVM's ticker: a short one here
        Authenticator shortTtl = new Authenticator(store, hasher, tokens, List.of("0.0.0.0/0", "::/0"), clock,
                Duration.ofMillis(300), signal);
        Principal owner = shortTtl.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        signal.down = true;
        settings.rotateKey(owner, new RotationRequest(0L));

        // the signal could not be read: the cached row answers, for at most the TTL
        assertThat(shortTtl.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()).clientId()).isEqualTo("victim");
        Thread.sleep(400);
        assertThat(status(() -> shortTtl.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(401);
    }

    @Test
    void aPrincipalThatNamesNoKeyIsRefused() {
        Principal bare = new Principal("victim", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
        assertThat(authenticator.verdict(bare, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
    }

    @Test
    void theAuthorizerContextCarriesTheKeyAndTokenTimes() {
        Principal p = new Principal("victim", Role.CLIENT, Principal.scopesFor(Role.CLIENT), "pro", "0123456789abcdef", 100, 1000);
        Map<String, Object> context = new HashMap<>(AccessVerdict.allow(p).toContext());
        assertThat(AccessVerdict.fromContext(context).orElseThrow().principal()).contains(p);
        assertThat(AccessVerdict.fromContext(new HashMap<>(AccessVerdict.disabled("off").toContext())).orElseThrow().outcome())
                .isEqualTo(AccessVerdict.Outcome.DISABLED);
    }

    private static int status(Runnable call) {
        return ((ApiException) catchThrowable(call::run)).status();
    }

    private static HttpRequest request(Map<String, String> headers) {
        Map<String, String> caseInsensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        caseInsensitive.putAll(headers);
        return new HttpRequest("POST", "/api/token", caseInsensitive, Map.of(), new byte[0], IP, "req-1", Map.of());
    }

    /**
     * Issue 30: with every cached row past its TTL (here: no TTL at all) and the store timing out, the row
     * last read still answers while the signal confirms its version; after a credential change it does not,
     * and neither does it when the signal cannot be read either.
     */
    @Test
    void theRowLastReadAnswersWhileTheStoreIsUnreadableOnlyIfTheSignalConfirmsIt() {
        boolean[] storeDown = {false};
        dev.usagetracker.clients.ClientStore flaky = (dev.usagetracker.clients.ClientStore) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {dev.usagetracker.clients.ClientStore.class}, (proxy, method, args) -> {
                    if (storeDown[0] && method.getName().startsWith("find")) {
                        throw software.amazon.awssdk.core.exception.ApiCallTimeoutException.create(2_000);
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Authenticator uncached = new Authenticator(flaky, hasher, tokens, List.of("0.0.0.0/0", "::/0"), clock, Duration.ZERO, signal);
        signal.changed("victim");
        Principal owner = uncached.apiKey(request(Map.of("X-API-Key", key)), Optional.empty());
        String token = tokens.issue(owner.clientId(), owner.role(), owner.akh()).accessToken();
        assertThat(uncached.verdict("Bearer " + token, IP).outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);

        storeDown[0] = true;
        assertThat(uncached.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()).clientId()).isEqualTo("victim");
        assertThat(uncached.verdict("Bearer " + token, IP).outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);

        signal.down = true;
        assertThat(status(() -> uncached.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(503);
        assertThat(uncached.verdict("Bearer " + token, IP).outcome()).isEqualTo(AccessVerdict.Outcome.UNAVAILABLE);

        signal.down = false;
        store.administer("victim", new AdminChange(Optional.empty(), Optional.of(true), Optional.empty()), clock.instant());
        signal.changed("victim");
        // the row last read is at an older version: it no longer stands in for the store
        assertThat(status(() -> uncached.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(503);
        storeDown[0] = false;
        assertThat(status(() -> uncached.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()))).isEqualTo(403);
    }

    /** The Redis signal's behaviour in memory: the row's version, published after each change. */
    static final class FakeSignal implements CredentialChanges {
        private final InMemoryClientStore store;
        private final Map<String, String> versions = new HashMap<>();
        boolean down;

        FakeSignal(InMemoryClientStore store) {
            this.store = store;
        }

        @Override
        public void changed(String clientId) {
            if (down) return;
            versions.put(clientId, Long.toString(store.find(clientId).map(c -> c.credentials().version()).orElse(-1L)));
        }

        @Override
        public String observe(String clientId) {
            if (down) throw new Unavailable("down", null);
            return versions.get(clientId);
        }
    }
}
