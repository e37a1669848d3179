package dev.usagetracker.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.usagetracker.clients.Cidr;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.ClientStore;
import dev.usagetracker.crypto.KeyHasher;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.DependencyFailure;
import dev.usagetracker.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Turns the credentials on a request into a {@link Principal}: an API key (looked up by its keyed
 * hash, never by plaintext) or a bearer access token, and applies the IP allowlists: a client's own
 * {@code allowed_ips} on all of its calls, and {@code ADMIN_ALLOWED_CIDRS} on every admin call. The
 * source IP is API Gateway's (the socket peer locally), never a header. Clients and verdicts are
 * cached per container for up to a minute, so a warm container authenticates without a read.
 */
public final class Authenticator {
    public static final String API_KEY_HEADER = "X-API-Key";

    private final ClientStore clients;
    private final KeyHasher hasher;
    private final TokenService tokens;
    private final List<String> adminAllowedCidrs;
    private final Clock clock;
    private final Cache<String, Optional<Client>> byKeyHash;
    private final Cache<String, Optional<Client>> byId;
    /** Allow verdicts keyed by SHA-256(token) and source IP; never kept past the token's expiry. */
    private final Cache<String, TokenService.VerifiedToken> verified;

    public Authenticator(ClientStore clients, KeyHasher hasher, TokenService tokens, List<String> adminAllowedCidrs,
                         Clock clock) {
        this(clients, hasher, tokens, adminAllowedCidrs, clock, Duration.ofSeconds(60));
    }

    /**
     * {@code cacheTtl} bounds how long a revoked key, a rotated key past its grace period or a changed
     * allowlist can still be honoured by a warm container (AUTH_CACHE_SECONDS).
     */
    public Authenticator(ClientStore clients, KeyHasher hasher, TokenService tokens, List<String> adminAllowedCidrs,
                         Clock clock, Duration cacheTtl) {
        this.clients = clients;
        this.hasher = hasher;
        this.tokens = tokens;
        this.adminAllowedCidrs = List.copyOf(adminAllowedCidrs);
        this.clock = clock;
        this.byKeyHash = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheTtl).build();
        this.byId = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(cacheTtl).build();
        this.verified = Caffeine.newBuilder().maximumSize(50_000)
                .expireAfter(Expiry.creating((String key, TokenService.VerifiedToken token) -> {
                    Duration untilExpiry = Duration.between(clock.instant(), token.expiresAt());
                    return untilExpiry.compareTo(cacheTtl) < 0 ? untilExpiry.isNegative() ? Duration.ZERO : untilExpiry : cacheTtl;
                }))
                .build();
    }

    /** For routes that take an API key: the header, else the key from the body (the original brief's way). */
    public Principal apiKey(HttpRequest request, Optional<String> keyFromBody) {
        String key = request.header(API_KEY_HEADER).or(() -> keyFromBody).orElseThrow(() ->
                ApiException.unauthorized("Send your API key in the X-API-Key header."));
        Client client = clientForKey(key);
        String refusal = refusal(client, request.sourceIp());
        if (refusal != null) throw ApiException.forbidden(refusal);
        return principal(client);
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
        AccessVerdict verdict = AccessVerdict.fromContext(request.authorizerContext())
                .orElseGet(() -> verdict(request.header("Authorization").orElse(null), request.sourceIp()));
        return switch (verdict.outcome()) {
            case ALLOW -> verdict.principal().orElseThrow();
            case FORBIDDEN -> throw ApiException.forbidden(verdict.reason());
            case UNAUTHENTICATED -> throw ApiException.unauthorized(verdict.reason());
            case UNAVAILABLE -> throw ApiException.unavailable(verdict.reason(), DependencyFailure.RETRY_AFTER_SECONDS);
        };
    }

    /** The REQUEST authorizer's decision: token valid, client still registered, source IP allowed. */
    public AccessVerdict verdict(String authorizationHeader, String sourceIp) {
        try {
            return decide(authorizationHeader, sourceIp);
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
            verifiedToken = verified.get(sha256(token) + "|" + sourceIp, k -> tokens.verifyToken(token));
        } catch (ApiException invalid) {
            return AccessVerdict.unauthenticated(invalid.getMessage());
        }
        if (!verifiedToken.expiresAt().isAfter(clock.instant().minusSeconds(30))) {
            return AccessVerdict.unauthenticated("The access token is invalid or expired.");
        }
        Principal principal = verifiedToken.principal();
        Optional<Client> client = byId.get(principal.clientId(), clients::find);
        if (client.isEmpty()) {
            return AccessVerdict.unauthenticated("The access token's client no longer exists.");
        }
        String refusal = refusal(client.get(), sourceIp);
        if (refusal != null) return AccessVerdict.forbidden(refusal);
        // The rate-limit plan comes from the client row just read, so a new plan applies within the cache TTL.
        return AccessVerdict.allow(new Principal(principal.clientId(), principal.role(), principal.scopes(), client.get().plan()));
    }

    public Client clientForKey(String key) {
        if (!ApiKeys.isPlausible(key)) {
            throw ApiException.unauthorized("The API key is invalid.");
        }
        String hash = hasher.hash(ApiKeys.HASH_PURPOSE, key);
        Optional<Client> client = byKeyHash.get(hash, clients::findByApiKeyHash);
        if (client.isEmpty()) {
            byKeyHash.invalidate(hash); // a key registered a moment later must work at once
            throw ApiException.unauthorized("The API key is invalid.");
        }
        return client.get();
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

    private static Principal principal(Client client) {
        return new Principal(client.clientId(), client.role(), Principal.scopesFor(client.role()), client.plan());
    }

    private static String sha256(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
