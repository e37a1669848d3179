package dev.usagetracker.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.usagetracker.crypto.SigningKeys;
import dev.usagetracker.http.ApiException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Short-lived access tokens (RFC 9068 {@code at+jwt}, ES256). Verification pins the algorithm and the
 * type, checks issuer, audience and expiry with a small skew, and needs every claim it relies on.
 */
public final class TokenService {
    private static final JOSEObjectType ACCESS_TOKEN = new JOSEObjectType("at+jwt");
    private static final int MAX_CLOCK_SKEW_SECONDS = 30;

    private final SigningKeys keys;
    private final String issuer;
    private final String audience;
    private final Duration ttl;
    private final Clock clock;
    private volatile DefaultJWTProcessor<SecurityContext> processor;

    public record AccessToken(String accessToken, String tokenType, long expiresIn) {}

    public TokenService(SigningKeys keys, String issuer, String audience, Duration ttl, Clock clock) {
        this.keys = keys;
        this.issuer = issuer;
        this.audience = audience;
        this.ttl = ttl;
        this.clock = clock;
    }

    /**
     * A token for the client, naming in {@code akh} the API key that minted it: the token is honoured only
     * while that key is (docs/security.md, "Revocation").
     */
    public AccessToken issue(String clientId, Role role, String akh) {
        if (akh == null || akh.isBlank()) throw new IllegalArgumentException("a token must name the key that minted it");
        Instant now = clock.instant();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .audience(audience)
                .subject(clientId)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString())
                .claim("scope", String.join(" ", Principal.scopesFor(role).stream().sorted().toList()))
                .claim("role", role.wireName())
                .claim("akh", akh)
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(ACCESS_TOKEN).keyID(keys.keyId()).build(), claims);
        try {
            jwt.sign(keys.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("token signing failed", e);
        }
        return new AccessToken(jwt.serialize(), "Bearer", ttl.toSeconds());
    }

    /** A token that passed every check, with its expiry (a cached verdict must not outlive it). */
    public record VerifiedToken(Principal principal, Instant expiresAt) {}

    public Principal verify(String token) {
        return verifyToken(token).principal();
    }

    public VerifiedToken verifyToken(String token) {
        // Outside the try: KMS being unreachable (the public key is fetched once) is not a bad token.
        DefaultJWTProcessor<SecurityContext> verifier = processor();
        // Only the one string we mint: no padding, no standard-base64 characters, no high-S twin.
        if (!CanonicalJws.isCanonical(token)) throw ApiException.unauthorized("The access token is invalid or expired.");
        try {
            JWTClaimsSet claims = verifier.process(token, null);
            Set<String> scopes = Arrays.stream(claims.getStringClaim("scope").split(" "))
                    .filter(s -> !s.isBlank()).collect(Collectors.toUnmodifiableSet());
            Instant expiresAt = claims.getExpirationTime().toInstant();
            return new VerifiedToken(new Principal(claims.getSubject(), Role.fromWire(claims.getStringClaim("role")), scopes,
                    Principal.DEFAULT_PLAN, claims.getStringClaim("akh"), claims.getIssueTime().toInstant().getEpochSecond(),
                    expiresAt.getEpochSecond()), expiresAt);
        } catch (ParseException | JOSEException | com.nimbusds.jose.proc.BadJOSEException | RuntimeException e) {
            throw ApiException.unauthorized("The access token is invalid or expired.");
        }
    }

    private DefaultJWTProcessor<SecurityContext> processor() {
        DefaultJWTProcessor<SecurityContext> p = processor;
        if (p == null) {
            p = new DefaultJWTProcessor<>();
            p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(ACCESS_TOKEN));
            p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.ES256,
                    new ImmutableJWKSet<>(keys.publicKeys())));
            DefaultJWTClaimsVerifier<SecurityContext> verifier = new DefaultJWTClaimsVerifier<>(
                    audience,
                    new JWTClaimsSet.Builder().issuer(issuer).build(),
                    new HashSet<>(List.of("sub", "iat", "exp", "jti", "scope", "role", "akh"))) {
                @Override
                protected Date currentTime() {
                    return Date.from(clock.instant());
                }
            };
            verifier.setMaxClockSkew(MAX_CLOCK_SKEW_SECONDS);
            p.setJWTClaimsSetVerifier(verifier);
            processor = p;
        }
        return p;
    }
}
