package dev.usagetracker.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.usagetracker.clients.Cidr;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.clients.Credentials;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.DependencyFailure;
import dev.usagetracker.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.time.Instant;
import java.util.Optional;

/**
 * Turns the credentials on a request into a {@link Principal}: an API key (looked up by its keyed
 * hash, never by plaintext) or a bearer access token, and applies the revocation state of the client
 * row and the IP allowlists: a client's own {@code allowed_ips} on all of its calls, and {@code
 * ADMIN_ALLOWED_CIDRS} on every admin call. The source IP is API Gateway's (the socket peer locally),
 * never a header.
 *
 * <p>Client rows are cached per container, but every authentication first asks the revocation signal
 * ({@link CredentialChanges}: one Redis GET) which credential version the client is at, and re-reads the
 * row (a consistent read) when the cached copy is at another one: a rotation, disable, erasure or
 * allowlist change is effective on the next request in every container. Only while the signal cannot be
 * read does a cached row live out its TTL ({@code AUTH_CACHE_SECONDS}, 60 s) unchecked.
 */
public final class Authenticator {
    public static final String API_KEY_HEADER = "X-API-Key";

    private final ClientStore clients;
    private final KeyHasher hasher;
    private final TokenService tokens;
    private final List<String> adminAllowedCidrs;
    private final Clock clock;
    private final CredentialChanges changes;
    private final Cache<String, Client> byKeyHash;
    private final Cache<String, Client> byId;
    /**
     * The rows last read, kept past their TTL for when the store cannot be read: used only while the
     * revocation signal answers and confirms the row's credential version (stale while unhealthy).
     */
    private final Cache<String, Client> lastKnownByKeyHash;
    private final Cache<String, Client> lastKnownById;
    /** How long a row last read may stand in for an unreadable store (with the signal confirming it). */
    static final Duration LAST_KNOWN_LIMIT = Duration.ofHours(1);
    /** Verified signatures keyed by SHA-256(token); never kept past the token's expiry. Not a verdict. */
    private final Cache<String, TokenService.VerifiedToken> verified;

    public Authenticator(ClientStore clients, KeyHasher hasher, TokenService tokens, List<String> adminAllowedCidrs,
                         Clock clock) {
        this(clients, hasher, tokens, adminAllowedCidrs, clock, Duration.ofSeconds(60), CredentialChanges.none());
    }

    public Authenticator(ClientStore clients, KeyHasher hasher, TokenService tokens, List<String> adminAllowedCidrs,
                         Clock clock, Duration cacheTtl) {
        this(clients, hasher, tokens, adminAllowedCidrs, clock, cacheTtl, CredentialChanges.none());
    }

    /**
     * {@code cacheTtl} bounds how long a cached client row is trusted while the revocation signal
     * ({@code changes}) cannot be read (AUTH_CACHE_SECONDS).
     */
    public Authenticator(ClientStore clients, KeyHasher hasher, TokenService tokens, List<String> adminAllowedCidrs,
                         Clock clock, Duration cacheTtl, CredentialChanges changes) {
        this.clients = clients;
        this.hasher = hasher;
        this.tokens = tokens;
        this.adminAllowedCidrs = List.copyOf(adminAllowedCidrs);
        this.clock = clock;
        this.changes = changes;
        this.byKeyHash = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheTtl).build();
        this.byId = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheTtl).build();
        this.lastKnownByKeyHash = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(LAST_KNOWN_LIMIT).build();
        this.lastKnownById = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(LAST_KNOWN_LIMIT).build();
        this.verified = Caffeine.newBuilder().maximumSize(50_000)
                .expireAfter(Expiry.creating((String key, TokenService.VerifiedToken token) -> {
                    Duration untilExpiry = Duration.between(clock.instant(), token.expiresAt());
                    return untilExpiry.isNegative() ? Duration.ZERO : untilExpiry;
                }))
                .build();
    }

    /** For routes that take an API key: the header, else the key from the body (the original brief's way). */
    public Principal apiKey(HttpRequest request, Optional<String> keyFromBody) {
        String key = request.header(API_KEY_HEADER).or(() -> keyFromBody).orElseThrow(() ->
                ApiException.unauthorized("Send your API key in the X-API-Key header."));
        return admitted(unlessUnavailable(() -> decideKey(key, request.sourceIp())));
    }

    /**
     * For the routes that mint or destroy a lasting credential (key rotation, erasure, webhook secrets):
     * only the current API key itself will do. An access token — possibly stolen, and short-lived on
     * purpose — must never be turned into a permanent credential: a request carrying one gets 403. So
     * does a key rotated away ({@link #currentKeyHolder}).
     */
    public Principal apiKeyItself(HttpRequest request, String action) {
        if (request.header(API_KEY_HEADER).isEmpty() && request.header("Authorization").isPresent()) {
            throw ApiException.forbidden(action + " requires the API key itself in the X-API-Key header; "
                    + "an access token is not enough.");
        }
        return currentKeyHolder(apiKey(request, Optional.empty()), action);
    }

    /**
     * For the routes that control the account (key rotation, erasure, the webhook, the IP allowlist): the
     * caller's credential must be the current API key or a token it minted. A key rotated away keeps
     * working for usage calls until its grace period ends, so that deployments can switch; but a leaked
     * old key is the usual reason to rotate, and it must not rotate again (killing the new key), erase
     * the client, redirect its alerts or lock its owner out with an allowlist.
     */
    public Principal currentKeyHolder(Principal caller, String action) {
        // the row authentication just read (cached, and fresh after every credential change)
        Client client = clientById(caller.clientId())
                .orElseThrow(() -> ApiException.unauthorized("The client no longer exists."));
        if (caller.akh() == null || !caller.akh().equals(client.credentials().currentKeyId())) {
            throw ApiException.forbidden(action + " requires the current API key (or a token it minted): this one was "
                    + "replaced by a key rotation and is accepted for usage calls only, until its grace period ends.");
        }
        return caller;
    }

    /** For routes that take either credential (POST /api/logs): API key first, then bearer token. */
    public Principal apiKeyOrBearer(HttpRequest request, Optional<String> keyFromBody) {
        if (request.header(API_KEY_HEADER).isPresent() || keyFromBody.isPresent()) {
            return apiKey(request, keyFromBody);
        }
        return bearer(request);
    }

    /** The authorizer's verdict when one ran (API Gateway), else the same decision made here. */
    public Principal bearer(HttpRequest request) {
        return admitted(AccessVerdict.fromContext(request.authorizerContext())
                .orElseGet(() -> verdict(request.header("Authorization").orElse(null), request.sourceIp())));
    }

    /** The verdict's principal, or the problem a refusal is answered with (401, 403, 503). */
    public static Principal admitted(AccessVerdict verdict) {
        return switch (verdict.outcome()) {
            case ALLOW -> verdict.principal().orElseThrow();
            case FORBIDDEN -> throw ApiException.forbidden(verdict.reason());
            case DISABLED -> throw ApiException.clientDisabled(verdict.reason());
            case UNAUTHENTICATED -> throw ApiException.unauthorized(verdict.reason());
            case UNAVAILABLE -> throw ApiException.unavailable(verdict.reason(), DependencyFailure.RETRY_AFTER_SECONDS);
        };
    }

    /** The REQUEST authorizer's decision: token valid and not revoked, client active, source IP allowed. */
    public AccessVerdict verdict(String authorizationHeader, String sourceIp) {
        return unlessUnavailable(() -> decide(authorizationHeader, sourceIp));
    }

    /** A store or KMS that did not answer is a verdict of its own (503), not a 401 or a 500. */
    private static AccessVerdict unlessUnavailable(java.util.function.Supplier<AccessVerdict> decision) {
        try {
            return decision.get();
        } catch (RuntimeException e) {
            if (DependencyFailure.of(e).isEmpty()) throw e;
            return AccessVerdict.unavailable("The credentials cannot be checked right now; retry after the Retry-After delay.");
        }
    }

    private AccessVerdict decide(String authorizationHeader, String sourceIp) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            return AccessVerdict.unauthenticated("Send an access token: Authorization: Bearer <token> (POST /api/token).");
        }
        String header = authorizationHeader.trim();
        if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return AccessVerdict.unauthenticated("The Authorization header must use the Bearer scheme.");
        }
        String token = header.substring(7).trim();
        TokenService.VerifiedToken verifiedToken;
        try {
            verifiedToken = verified.get(sha256(token), k -> tokens.verifyToken(token));
        } catch (ApiException invalid) {
            return AccessVerdict.unauthenticated(invalid.getMessage());
        }
        if (!verifiedToken.expiresAt().isAfter(clock.instant().minusSeconds(30))) {
            return AccessVerdict.unauthenticated("The access token is invalid or expired.");
        }
        return decide(verifiedToken.principal(), sourceIp);
    }

    /**
     * The rest of the same decision for a caller whose credential was checked already (a stream ticket,
     * a long-lived stream re-checked): its client still exists, is active and not disabled, the key behind
     * the credential is still valid, the token was not issued before a revocation, and the client may call
     * from this address. Refuses every principal that does not name the key it came from.
     */
    public AccessVerdict verdict(Principal principal, String sourceIp) {
        return unlessUnavailable(() -> decide(principal, sourceIp));
    }

    private AccessVerdict decide(Principal principal, String sourceIp) {
        if (!principal.fromApiKey() && principal.exp() <= clock.instant().getEpochSecond() - 30) {
            return AccessVerdict.unauthenticated("The access token is invalid or expired.");
        }
        Optional<Client> client = clientById(principal.clientId());
        if (client.isEmpty()) {
            return AccessVerdict.unauthenticated("The access token's client no longer exists.");
        }
        return check(client.get(), principal, sourceIp);
    }

    private AccessVerdict decideKey(String key, String sourceIp) {
        if (!ApiKeys.isPlausible(key)) return AccessVerdict.unauthenticated("The API key is invalid.");
        String hash = hasher.hash(ApiKeys.HASH_PURPOSE, key);
        Optional<Client> client = clientByKeyHash(hash);
        if (client.isEmpty()) return AccessVerdict.unauthenticated("The API key is invalid.");
        return check(client.get(), principal(client.get(), Credentials.keyId(hash)), sourceIp);
    }

    /** The client a valid API key belongs to, else 401; the caller applies the rest of the checks. */
    public Client clientForKey(String key) {
        if (!ApiKeys.isPlausible(key)) {
            throw ApiException.unauthorized("The API key is invalid.");
        }
        String hash = hasher.hash(ApiKeys.HASH_PURPOSE, key);
        Client client = clientByKeyHash(hash).orElseThrow(() -> ApiException.unauthorized("The API key is invalid."));
        if (!client.credentials().keyValid(Credentials.keyId(hash), clock.instant()) || client.credentials().erasing()) {
            throw ApiException.unauthorized("The API key is invalid.");
        }
        return client;
    }

    /** Every revocation rule, in the order a caller should hear about them. */
    private AccessVerdict check(Client client, Principal principal, String sourceIp) {
        Credentials credentials = client.credentials();
        if (credentials.erasing()) {
            return AccessVerdict.unauthenticated(principal.fromApiKey() ? "The API key is invalid."
                    : "The access token's client no longer exists.");
        }
        if (credentials.disabled()) {
            return AccessVerdict.disabled("This client is disabled; its API keys and access tokens are refused until an admin enables it.");
        }
        if (!credentials.keyValid(principal.akh(), clock.instant())) {
            return AccessVerdict.unauthenticated(principal.fromApiKey() ? "The API key is invalid."
                    : "The access token was issued for an API key that is no longer valid; get a new one (POST /api/token).");
        }
        if (!principal.fromApiKey() && principal.iat() < credentials.tokensValidAfter()) {
            return AccessVerdict.unauthenticated("The access token was revoked; get a new one (POST /api/token).");
        }
        String refusal = refusal(client, sourceIp);
        if (refusal != null) return AccessVerdict.forbidden(refusal);
        // The rate-limit plan comes from the client row just read, so a new plan applies at once.
        return AccessVerdict.allow(principal.withPlan(client.plan()));
    }

    /**
     * When the client with this id registered (the row authentication reads, cached); empty if there is
     * none. An id freed by an erasure may be registered again: what happened before belongs to someone else.
     */
    public Optional<Instant> registeredAt(String clientId) {
        return clientById(clientId).map(Client::createdAt);
    }

    private Optional<Client> clientById(String clientId) {
        Client cached = byId.getIfPresent(clientId);
        if (cached != null && upToDate(cached)) return Optional.of(cached);
        // Absent clients are not cached: an id freed by an erasure may be registered again at once.
        Optional<Client> loaded = readOrLastKnown(() -> clients.find(clientId), lastKnownById.getIfPresent(clientId));
        loaded.ifPresentOrElse(c -> remember(byId, lastKnownById, clientId, c), () -> forget(byId, lastKnownById, clientId));
        return loaded;
    }

    private Optional<Client> clientByKeyHash(String hash) {
        Client cached = byKeyHash.getIfPresent(hash);
        if (cached != null && upToDate(cached)) return Optional.of(cached);
        // A key registered a moment later must work at once: unknown keys are not cached either.
        Optional<Client> loaded = readOrLastKnown(() -> clients.findByApiKeyHash(hash), lastKnownByKeyHash.getIfPresent(hash));
        loaded.ifPresentOrElse(c -> remember(byKeyHash, lastKnownByKeyHash, hash, c), () -> forget(byKeyHash, lastKnownByKeyHash, hash));
        return loaded;
    }

    /**
     * The row from the store; if the store cannot be read (a timeout, an outage), the row last read, but
     * only while the revocation signal answers and is at that row's version: no credential change since, so
     * the row still tells the truth about keys, status and allowlist. Otherwise the failure stands (503).
     */
    private Optional<Client> readOrLastKnown(java.util.function.Supplier<Optional<Client>> read, Client lastKnown) {
        try {
            return read.get();
        } catch (RuntimeException e) {
            if (lastKnown == null || DependencyFailure.of(e).isEmpty() || !confirmedBySignal(lastKnown)) throw e;
            return Optional.of(lastKnown);
        }
    }

    private static void remember(Cache<String, Client> fresh, Cache<String, Client> lastKnown, String key, Client client) {
        fresh.put(key, client);
        lastKnown.put(key, client);
    }

    private static void forget(Cache<String, Client> fresh, Cache<String, Client> lastKnown, String key) {
        fresh.invalidate(key);
        lastKnown.invalidate(key);
    }

    /** Unlike {@link #upToDate}, an unreadable signal confirms nothing. */
    private boolean confirmedBySignal(Client row) {
        try {
            String observed = changes.observe(row.clientId());
            return (observed == null ? 0 : Long.parseLong(observed)) == row.credentials().version();
        } catch (CredentialChanges.Unavailable | NumberFormatException e) {
            return false;
        }
    }

    /**
     * Whether the signal is at the version of the cached row (no signal yet means version 0). When the
     * signal cannot be read the cached row is trusted until its TTL ends.
     */
    private boolean upToDate(Client cached) {
        String observed;
        try {
            observed = changes.observe(cached.clientId());
        } catch (CredentialChanges.Unavailable e) {
            return true;
        }
        long version;
        try {
            version = observed == null ? 0 : Long.parseLong(observed);
        } catch (NumberFormatException e) {
            return false;
        }
        return version == cached.credentials().version();
    }

    /** Why this client may not call from this address, or null if it may. */
    private String refusal(Client client, String sourceIp) {
        if (sourceIp == null) return "The source address of the request is unknown.";
        if (!client.allowedIps().isEmpty() && !Cidr.anyContains(client.allowedIps(), sourceIp)) {
            return "Calls for this client are not allowed from this address.";
        }
        if (client.role() == Role.ADMIN && !Cidr.anyContains(adminAllowedCidrs, sourceIp)) {
            return "Admin calls are not allowed from this address.";
        }
        return null;
    }

    private static Principal principal(Client client, String keyId) {
        return new Principal(client.clientId(), client.role(), Principal.scopesFor(client.role()), client.plan(), keyId, 0, 0);
    }

    private static String sha256(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
