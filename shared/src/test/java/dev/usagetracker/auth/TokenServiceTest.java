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

    @Test
    void acceptsOnlyTheCanonicalSpellingOfAToken() {
        // many tokens, so that some signatures have '-' or '_' and some were high-S before normalising
        for (int i = 0; i < 40; i++) {
            String token = tokens.issue("acme", Role.CLIENT, "0123456789abcdef").accessToken();
            String[] parts = token.split("\\.");
            byte[] sig = Base64URL.from(parts[2]).decode();
            assertThat(dev.usagetracker.crypto.EcdsaP256.isCanonical(sig)).as("minted low-S").isTrue();
            assertThat(tokens.verify(token).clientId()).isEqualTo("acme");

            String twin = parts[0] + "." + parts[1] + "." + Base64URL.encode(dev.usagetracker.crypto.EcdsaP256.twin(sig));
            assertUnauthorized(() -> tokens.verify(twin));
            assertUnauthorized(() -> tokens.verify(token + "=="));
            assertUnauthorized(() -> tokens.verify(parts[0] + "=." + parts[1] + "." + parts[2]));
            String standard = parts[0] + "." + parts[1] + "." + parts[2].replace('-', '+').replace('_', '/');
            if (!standard.equals(token)) assertUnauthorized(() -> tokens.verify(standard));
            // the same bytes with non-zero unused bits in the last character: 86 chars carry 516 bits for 512
            char last = parts[2].charAt(parts[2].length() - 1);
            String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            String sibling = parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() - 1)
                    + alphabet.charAt(alphabet.indexOf(last) ^ 1);
            assertUnauthorized(() -> tokens.verify(sibling));
        }
    }

    @Test
    void lowSNormalisesExactlyTheHighHalf() {
        byte[] sig = new byte[64];
        sig[31] = 1;
        byte[] high = dev.usagetracker.crypto.EcdsaP256.twin(withS(sig, java.math.BigInteger.valueOf(5)));
        assertThat(dev.usagetracker.crypto.EcdsaP256.isCanonical(high)).isFalse();
        assertThat(dev.usagetracker.crypto.EcdsaP256.lowS(high)).isEqualTo(withS(sig, java.math.BigInteger.valueOf(5)));
        byte[] half = withS(sig, dev.usagetracker.crypto.EcdsaP256.ORDER.shiftRight(1));
        assertThat(dev.usagetracker.crypto.EcdsaP256.isCanonical(half)).isTrue();
        assertThat(dev.usagetracker.crypto.EcdsaP256.lowS(half)).isEqualTo(half);
        assertThat(dev.usagetracker.crypto.EcdsaP256.isCanonical(withS(sig, java.math.BigInteger.ZERO))).isFalse();
    }

    private static byte[] withS(byte[] sig, java.math.BigInteger s) {
        byte[] out = sig.clone();
        byte[] raw = s.toByteArray();
        java.util.Arrays.fill(out, 32, 64, (byte) 0);
        int copy = Math.min(raw.length, 32);
        System.arraycopy(raw, raw.length - copy, out, 64 - copy, copy);
        return out;
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

        /** Signs like KmsSigningKeys: the JCA's signature, turned low-S (the only form verified). */
        @Override
        public JWSSigner signer() {
            try {
                ECDSASigner jca = new ECDSASigner(key);
                return new JWSSigner() {
                    @Override
                    public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
                        return Base64URL.encode(dev.usagetracker.crypto.EcdsaP256.lowS(jca.sign(header, signingInput).decode()));
                    }

                    @Override
                    public java.util.Set<JWSAlgorithm> supportedJWSAlgorithms() {
                        return jca.supportedJWSAlgorithms();
                    }

                    @Override
                    public com.nimbusds.jose.jca.JCAContext getJCAContext() {
                        return jca.getJCAContext();
                    }
                };
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
