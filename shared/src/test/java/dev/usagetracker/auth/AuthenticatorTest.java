package dev.usagetracker.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.InMemoryClientStore;
import dev.usagetracker.clients.NewClient;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AuthenticatorTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00Z");
    private static final String ALPHA_KEY = "ut_alphaalphaalphaalphaalpha";
    private static final String BETA_KEY = "ut_betabetabetabetabetabeta";
    private static final String ADMIN_KEY = "operator-chosen.admin~key";

    private final CountingHasher hasher = new CountingHasher();
    private final InMemoryClientStore store = new InMemoryClientStore(Clock.fixed(NOW, ZoneOffset.UTC));
    private final TokenService tokens = new TokenService(TokenServiceTest.InMemorySigningKeys.generate(),
            "https://usage-tracker.test", "usage-tracker-api", Duration.ofMinutes(15), Clock.fixed(NOW, ZoneOffset.UTC));
    private final Authenticator authenticator = new Authenticator(store, hasher, tokens, List.of("0.0.0.0/0", "::/0"),
            Clock.fixed(NOW, ZoneOffset.UTC));

    AuthenticatorTest() {
        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, ALPHA_KEY), client("alpha", Role.CLIENT));
        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, BETA_KEY), client("beta", Role.CLIENT));
        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, ADMIN_KEY), client("admin", Role.ADMIN));
        hasher.calls = 0;
    }

    // --- API keys -------------------------------------------------------------------------------

    @Test
    void authenticatesAKeyFromTheHeader() {
        Principal principal = authenticator.apiKey(request(Map.of("x-api-key", ALPHA_KEY)), Optional.empty());

        assertThat(principal.clientId()).isEqualTo("alpha");
        assertThat(principal.role()).isEqualTo(Role.CLIENT);
        assertThat(principal.scopes()).containsExactlyInAnyOrder(Principal.SCOPE_LOGS_WRITE, Principal.SCOPE_USAGE_READ);
    }

    @Test
    void givesAnAdminKeyTheAdminScopes() {
        Principal principal = authenticator.apiKey(request(Map.of("X-API-Key", ADMIN_KEY)), Optional.empty());

        assertThat(principal.isAdmin()).isTrue();
    }

    @Test
    void prefersTheHeaderKeyOverTheBodyKey() {
        Principal principal = authenticator.apiKey(request(Map.of("X-API-Key", ALPHA_KEY)), Optional.of(BETA_KEY));

        assertThat(principal.clientId()).isEqualTo("alpha");
    }

    @Test
    void fallsBackToTheBodyKeyWithoutAHeader() {
        assertThat(authenticator.apiKey(request(Map.of()), Optional.of(BETA_KEY)).clientId()).isEqualTo("beta");
        assertThat(authenticator.apiKey(request(Map.of("X-API-Key", "  ")), Optional.of(BETA_KEY)).clientId())
                .isEqualTo("beta");
    }

    @Test
    void rejectsARequestWithoutCredentialsWithAChallenge() {
        ApiException forKey = unauthorized(() -> authenticator.apiKey(request(Map.of()), Optional.empty()));
        ApiException forEither = unauthorized(() -> authenticator.apiKeyOrBearer(request(Map.of()), Optional.empty()));

        assertThat(forKey.headers()).containsEntry("WWW-Authenticate", "Bearer realm=\"usage-tracker\"");
        assertThat(forEither.headers()).containsKey("WWW-Authenticate");
    }

    @Test
    void rejectsAnUnknownKey() {
        unauthorized(() -> authenticator.apiKey(request(Map.of("X-API-Key", "ut_unknownunknownunknown")), Optional.empty()));

        assertThat(hasher.calls).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "short", "has spaces in the key 123", "ut_withnonascii_ключключключ",
            "ut_semi;colon_semicolon_semicolon", "ut_\u0000nulnulnulnulnulnul"})
    void rejectsAnImplausibleKeyWithoutHashingIt(String key) {
        unauthorized(() -> authenticator.apiKey(request(Map.of()), Optional.of(key)));

        assertThat(hasher.calls).isZero();
        assertThat(store.lookups).isZero();
    }

    @Test
    void rejectsAKeyLongerThan128CharactersWithoutHashingIt() {
        unauthorized(() -> authenticator.apiKey(request(Map.of()), Optional.of("k".repeat(129))));

        assertThat(hasher.calls).isZero();
    }

    @Test
    void looksAKnownKeyUpOnlyOncePerContainer() {
        authenticator.apiKey(request(Map.of("X-API-Key", ALPHA_KEY)), Optional.empty());
        authenticator.apiKey(request(Map.of("X-API-Key", ALPHA_KEY)), Optional.empty());

        assertThat(store.lookups).isEqualTo(1);
    }

    @Test
    void acceptsAKeyRegisteredRightAfterItWasRefused() {
        String key = "ut_registeredamomentlater";
        unauthorized(() -> authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()));

        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, key), client("late", Role.CLIENT));

        assertThat(authenticator.apiKey(request(Map.of("X-API-Key", key)), Optional.empty()).clientId()).isEqualTo("late");
    }

    // --- bearer tokens --------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"Bearer ", "bearer ", "BEARER ", "BeArEr "})
    void acceptsTheBearerSchemeInAnyCase(String scheme) {
        String token = tokens.issue("alpha", Role.CLIENT, keyId(ALPHA_KEY)).accessToken();

        Principal principal = authenticator.bearer(request(Map.of("Authorization", scheme + token)));

        assertThat(principal.clientId()).isEqualTo("alpha");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Basic YWxwaGE6c2VjcmV0", "Basic x", "Bearer", "Bearer ", "Bearertoken", "Token abc.def.ghi",
            "Bearer not-a-token"})
    void rejectsOtherSchemesAndBadTokens(String authorization) {
        unauthorized(() -> authenticator.bearer(request(Map.of("Authorization", authorization))));
    }

    @Test
    void rejectsAMissingAuthorizationHeader() {
        assertThat(unauthorized(() -> authenticator.bearer(request(Map.of()))).headers()).containsKey("WWW-Authenticate");
    }

    @Test
    void usesTheApiKeyWhenBothCredentialsArePresent() {
        Principal principal = authenticator.apiKeyOrBearer(
                request(Map.of("X-API-Key", ALPHA_KEY, "Authorization", "Bearer garbage")), Optional.empty());

        assertThat(principal.clientId()).isEqualTo("alpha");
    }

    @Test
    void usesTheBearerTokenWhenThereIsNoKey() {
        String token = tokens.issue("beta", Role.CLIENT, keyId(BETA_KEY)).accessToken();

        Principal principal = authenticator.apiKeyOrBearer(request(Map.of("Authorization", "Bearer " + token)),
                Optional.empty());

        assertThat(principal.clientId()).isEqualTo("beta");
        assertThat(hasher.calls).isZero();
    }

    // --- IP allowlists and the authorizer's verdict ---------------------------------------------

    @Test
    void clientKeyIsRefusedOutsideItsAllowlistAndAcceptedInside() {
        String key = "ut_gammagammagammagammagamma";
        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, key), new Client("gamma", "GAMMA", Role.CLIENT,
                List.of("10.0.0.0/8", "2001:db8:0:0:0:0:0:0/32"), NOW));

        Throwable outside = catchThrowable(() -> authenticator.apiKey(request(Map.of("X-API-Key", key), "198.51.100.4", Map.of()), Optional.empty()));
        assertThat(outside).isInstanceOf(ApiException.class);
        assertThat(((ApiException) outside).status()).isEqualTo(403);

        assertThat(authenticator.apiKey(request(Map.of("X-API-Key", key), "10.20.30.40", Map.of()), Optional.empty()).clientId())
                .isEqualTo("gamma");
        assertThat(authenticator.apiKey(request(Map.of("X-API-Key", key), "2001:db8::7", Map.of()), Optional.empty()).clientId())
                .isEqualTo("gamma");
    }

    @Test
    void bearerTokenOfAClientIsRefusedOutsideItsAllowlist() {
        String key = "ut_deltadeltadeltadeltadelta";
        store.add(hasher.hash(ApiKeys.HASH_PURPOSE, key), new Client("delta", "DELTA", Role.CLIENT, List.of("10.0.0.0/8"), NOW));
        String token = tokens.issue("delta", Role.CLIENT, keyId(key)).accessToken();

        assertThat(authenticator.verdict("Bearer " + token, "198.51.100.4").outcome()).isEqualTo(AccessVerdict.Outcome.FORBIDDEN);
        assertThat(authenticator.verdict("Bearer " + token, "10.1.1.1").outcome()).isEqualTo(AccessVerdict.Outcome.ALLOW);
    }

    @Test
    void adminCallsAreRefusedOutsideTheAdminAllowlist() {
        Authenticator strict = new Authenticator(store, hasher, tokens, List.of("127.0.0.0/8"), Clock.fixed(NOW, ZoneOffset.UTC));
        Throwable refused = catchThrowable(() -> strict.apiKey(request(Map.of("X-API-Key", ADMIN_KEY), "198.51.100.4", Map.of()), Optional.empty()));
        assertThat(((ApiException) refused).status()).isEqualTo(403);
        assertThat(strict.apiKey(request(Map.of("X-API-Key", ADMIN_KEY), "127.0.0.1", Map.of()), Optional.empty()).isAdmin()).isTrue();
        // clients are not bound by the admin allowlist
        assertThat(strict.apiKey(request(Map.of("X-API-Key", ALPHA_KEY), "198.51.100.4", Map.of()), Optional.empty()).clientId()).isEqualTo("alpha");
    }

    @Test
    void routeHonoursTheAuthorizersVerdictWithoutVerifyingAgain() {
        Map<String, Object> allow = Map.copyOf(AccessVerdict.allow(new Principal("beta", Role.CLIENT,
                Principal.scopesFor(Role.CLIENT))).toContext());
        assertThat(authenticator.bearer(request(Map.of(), "198.51.100.4", allow)).clientId()).isEqualTo("beta");

        Map<String, Object> forbidden = Map.copyOf(AccessVerdict.forbidden("not from here").toContext());
        Throwable f = catchThrowable(() -> authenticator.bearer(request(Map.of(), "198.51.100.4", forbidden)));
        assertThat(((ApiException) f).status()).isEqualTo(403);
        Map<String, Object> unauthenticated = Map.copyOf(AccessVerdict.unauthenticated("expired").toContext());
        unauthorized(() -> authenticator.bearer(request(Map.of(), "198.51.100.4", unauthenticated)));
    }

    @Test
    void aValidTokenWhoseClientCannotBeLookedUpIs503NotA401() {
        // DynamoDB does not answer: the client lookup throws what the SDK throws on a timeout
        dev.usagetracker.clients.ClientStore unreachable = (dev.usagetracker.clients.ClientStore) java.lang.reflect.Proxy
                .newProxyInstance(getClass().getClassLoader(), new Class<?>[] {dev.usagetracker.clients.ClientStore.class},
                        (proxy, method, args) -> {
                            throw software.amazon.awssdk.core.exception.ApiCallTimeoutException.create(5000);
                        });
        Authenticator cut = new Authenticator(unreachable, hasher, tokens, List.of("0.0.0.0/0", "::/0"), Clock.fixed(NOW, ZoneOffset.UTC));
        String token = tokens.issue("beta", Role.CLIENT, keyId(BETA_KEY)).accessToken();

        AccessVerdict verdict = cut.verdict("Bearer " + token, "198.51.100.4");

        assertThat(verdict.outcome()).isEqualTo(AccessVerdict.Outcome.UNAVAILABLE);
        Map<String, Object> context = Map.copyOf(verdict.toContext());
        Throwable e = catchThrowable(() -> authenticator.bearer(request(Map.of(), "198.51.100.4", context)));
        assertThat(((ApiException) e).status()).isEqualTo(503);
        assertThat(((ApiException) e).headers()).containsKey("Retry-After");
    }

    @Test
    void tokenOfADeletedClientIsRefused() {
        String token = tokens.issue("ghost", Role.CLIENT, "0123456789abcdef").accessToken();
        assertThat(authenticator.verdict("Bearer " + token, "198.51.100.4").outcome())
                .isEqualTo(AccessVerdict.Outcome.UNAUTHENTICATED);
    }

    // --- helpers and fakes ----------------------------------------------------------------------

    private static HttpRequest request(Map<String, String> headers) {
        Map<String, String> caseInsensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        caseInsensitive.putAll(headers);
        return request(headers, "198.51.100.4", Map.of());
    }

    private static HttpRequest request(Map<String, String> headers, String sourceIp, Map<String, Object> authorizer) {
        Map<String, String> caseInsensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        caseInsensitive.putAll(headers);
        return new HttpRequest("POST", "/api/logs", caseInsensitive, Map.of(), new byte[0], sourceIp, "req-1", authorizer);
    }

    private String keyId(String key) {
        int calls = hasher.calls;
        String id = dev.usagetracker.clients.Credentials.keyId(hasher.hash(ApiKeys.HASH_PURPOSE, key));
        hasher.calls = calls;
        return id;
    }

    private static Client client(String id, Role role) {
        return new Client(id, id.toUpperCase(), role, List.of(), NOW);
    }

    private static ApiException unauthorized(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        ApiException e = (ApiException) thrown;
        assertThat(e.status()).isEqualTo(401);
        return e;
    }

    /** Deterministic stand-in for the KMS HMAC that counts how often it is asked. */
    static final class CountingHasher implements KeyHasher {
        int calls;

        @Override
        public String hash(String purpose, String value) {
            calls++;
            return purpose + ":" + Integer.toHexString((purpose + ':' + value).hashCode()) + ":" + value.length();
        }
    }
}
