package dev.usagetracker.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.usagetracker.TestClock;
import dev.usagetracker.crypto.SigningKeys;
import dev.usagetracker.http.ApiException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class TokenServiceTest {
    private static final String ISSUER = "https://usage-tracker.test";
    private static final String AUDIENCE = "usage-tracker-api";
    private static final Duration TTL = Duration.ofMinutes(15);
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00Z");

    private final TestClock clock = new TestClock(NOW);
    private final InMemorySigningKeys keys = InMemorySigningKeys.generate();
    private final TokenService tokens = new TokenService(keys, ISSUER, AUDIENCE, TTL, clock);

    @Test
    void issuesATokenThatVerifiesToTheSameClient() {
        TokenService.AccessToken token = tokens.issue("acme", Role.CLIENT, "0123456789abcdef");

        Principal principal = tokens.verify(token.accessToken());

        assertThat(token.tokenType()).isEqualTo("Bearer");
        assertThat(token.expiresIn()).isEqualTo(TTL.toSeconds());
        assertThat(principal.clientId()).isEqualTo("acme");
        assertThat(principal.role()).isEqualTo(Role.CLIENT);
        assertThat(principal.scopes()).containsExactlyInAnyOrder(Principal.SCOPE_LOGS_WRITE, Principal.SCOPE_USAGE_READ);
        assertThat(principal.isAdmin()).isFalse();
    }

    @Test
    void carriesTheAdminRoleAndScopes() {
        Principal principal = tokens.verify(tokens.issue("admin", Role.ADMIN, "0123456789abcdef").accessToken());

        assertThat(principal.role()).isEqualTo(Role.ADMIN);
        assertThat(principal.scopes()).contains(Principal.SCOPE_USAGE_ADMIN);
        assertThat(principal.isAdmin()).isTrue();
    }

    @Test
    void signsWithEs256AsAnAccessTokenUnderTheKeysId() throws ParseException {
        SignedJWT jwt = SignedJWT.parse(tokens.issue("acme", Role.CLIENT, "0123456789abcdef").accessToken());

        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        assertThat(jwt.getHeader().getType()).isEqualTo(new JOSEObjectType("at+jwt"));
        assertThat(jwt.getHeader().getKeyID()).isEqualTo(keys.keyId());
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertThat(claims.getIssuer()).isEqualTo(ISSUER);
        assertThat(claims.getAudience()).containsExactly(AUDIENCE);
        assertThat(claims.getExpirationTime().toInstant()).isEqualTo(NOW.plus(TTL));
        assertThat(claims.getJWTID()).isNotBlank();
    }

    @Test
    void acceptsATokenWithinTheClockSkewAfterExpiry() {
        String token = tokens.issue("acme", Role.CLIENT, "0123456789abcdef").accessToken();
        clock.advance(TTL.plusSeconds(29));

        assertThat(tokens.verify(token).clientId()).isEqualTo("acme");
    }

    @Test
    void rejectsAnExpiredToken() {
        String token = tokens.issue("acme", Role.CLIENT, "0123456789abcdef").accessToken();
        clock.advance(TTL.plusSeconds(31));

        assertUnauthorized(() -> tokens.verify(token));
    }

    @Test
    void rejectsATokenFromAnotherIssuer() {
        String token = new TokenService(keys, "https://evil.test", AUDIENCE, TTL, clock).issue("acme", Role.CLIENT, "0123456789abcdef").accessToken();

        assertUnauthorized(() -> tokens.verify(token));
    }

    @Test
    void rejectsATokenForAnotherAudience() {
        String token = new TokenService(keys, ISSUER, "another-api", TTL, clock).issue("acme", Role.CLIENT, "0123456789abcdef").accessToken();

        assertUnauthorized(() -> tokens.verify(token));
    }

    @Test
    void rejectsATamperedPayload() {
        String[] parts = tokens.issue("acme", Role.CLIENT, "0123456789abcdef").accessToken().split("\\.");
        String payload = new Base64URL(parts[1]).decodeToString();
        assertThat(payload).contains("\"role\":\"client\"");
        String forged = Base64URL.encode(payload.replace("\"role\":\"client\"", "\"role\":\"admin\"")
                .replace("\"scope\":\"", "\"scope\":\"usage:admin ")).toString();

        assertUnauthorized(() -> tokens.verify(parts[0] + "." + forged + "." + parts[2]));
    }

    @Test
    void rejectsAnUnsignedAlgNoneToken() throws ParseException {
        String token = new PlainJWT(new PlainHeader.Builder().type(new JOSEObjectType("at+jwt")).build(),
                genuineClaims()).serialize();

        assertUnauthorized(() -> tokens.verify(token));
    }

    @Test
    void rejectsAnHs256TokenWhateverItsSecret() throws Exception {
        byte[] secret = "a-shared-secret-of-at-least-256-bits!!".getBytes(StandardCharsets.UTF_8);

        String token = sign(JWSAlgorithm.HS256, "at+jwt", keys.keyId(), new MACSigner(secret));

        assertUnauthorized(() -> tokens.verify(token));
    }

    @Test
    void rejectsATokenSignedByAnotherKeyUnderTheSameKeyId() throws Exception {
        ECKey impostor = new ECKeyGenerator(Curve.P_256).keyID(keys.keyId()).generate();

        String token = sign(JWSAlgorithm.ES256, "at+jwt", keys.keyId(), new ECDSASigner(impostor));

        assertUnauthorized(() -> tokens.verify(token));
    }

    @Test
    void rejectsATokenWithAnotherType() throws Exception {
        String plainJwt = sign(JWSAlgorithm.ES256, "JWT", keys.keyId(), keys.signer());
        String untyped = sign(JWSAlgorithm.ES256, null, keys.keyId(), keys.signer());

        assertUnauthorized(() -> tokens.verify(plainJwt));
        assertUnauthorized(() -> tokens.verify(untyped));
    }

    @Test
    void acceptsAHandSignedTokenWithTheRightTypeAndKey() throws Exception {
        // the positive control for the forgeries above: same claims, same signer, only the forged part differs
        String token = sign(JWSAlgorithm.ES256, "at+jwt", keys.keyId(), keys.signer());

        assertThat(tokens.verify(token).clientId()).isEqualTo("acme");
    }

    @Test
    void rejectsATokenMissingARequiredClaim() throws Exception {
        JWTClaimsSet withoutScope = new JWTClaimsSet.Builder(genuineClaims()).claim("scope", null).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("at+jwt"))
                .keyID(keys.keyId()).build(), withoutScope);
        jwt.sign(keys.signer());

        assertUnauthorized(() -> tokens.verify(jwt.serialize()));
    }

    @Test
    void rejectsGarbage() {
        assertUnauthorized(() -> tokens.verify("not.a.jwt"));
        assertUnauthorized(() -> tokens.verify(""));
    }

    // --- helpers --------------------------------------------------------------------------------

    private JWTClaimsSet genuineClaims() throws ParseException {
        return SignedJWT.parse(tokens.issue("acme", Role.CLIENT, "0123456789abcdef").accessToken()).getJWTClaimsSet();
    }

    private String sign(JWSAlgorithm alg, String type, String keyId, JWSSigner signer) throws Exception {
        JWSHeader.Builder header = new JWSHeader.Builder(alg).keyID(keyId);
        if (type != null) header.type(new JOSEObjectType(type));
        SignedJWT jwt = new SignedJWT(header.build(), genuineClaims());
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static void assertUnauthorized(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        ApiException e = (ApiException) thrown;
        assertThat(e.status()).isEqualTo(401);
        assertThat(e.headers()).containsKey("WWW-Authenticate");
    }

    /** An EC P-256 key held in memory, standing in for the KMS key. */
    record InMemorySigningKeys(ECKey key) implements SigningKeys {
        static InMemorySigningKeys generate() {
            try {
                return new InMemorySigningKeys(new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate());
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public JWSSigner signer() {
            try {
                return new ECDSASigner(key);
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String keyId() {
            return key.getKeyID();
        }

        @Override
        public JWKSet publicKeys() {
            return new JWKSet(key.toPublicJWK());
        }
    }
}
