package dev.usagetracker.crypto;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.util.Base64URL;
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Set;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.MessageType;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;

/**
 * ES256 with the private key inside KMS (ECC_NIST_P256, SIGN_VERIFY): tokens are signed by KMS Sign,
 * so no function ever holds the private key. The public key is fetched once per container; its key id
 * is the RFC 7638 thumbprint, which changes when the KMS key is replaced.
 */
public final class KmsSigningKeys implements SigningKeys {
    private final KmsClient kms;
    private final String kmsKeyId;
    private volatile ECKey publicKey;

    public KmsSigningKeys(KmsClient kms, String kmsKeyId) {
        this.kms = kms;
        this.kmsKeyId = kmsKeyId;
    }

    @Override
    public String keyId() {
        return publicKey().getKeyID();
    }

    @Override
    public JWKSet publicKeys() {
        return new JWKSet(publicKey());
    }

    @Override
    public JWSSigner signer() {
        return new KmsSigner();
    }

    private ECKey publicKey() {
        ECKey key = publicKey;
        if (key == null) {
            try {
                byte[] der = kms.getPublicKey(r -> r.keyId(kmsKeyId)).publicKey().asByteArray();
                ECPublicKey ec = (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
                key = new ECKey.Builder(Curve.P_256, ec)
                        .keyUse(KeyUse.SIGNATURE)
                        .algorithm(JWSAlgorithm.ES256)
                        .keyIDFromThumbprint()
                        .build();
            } catch (JOSEException | java.security.GeneralSecurityException e) {
                throw new IllegalStateException("cannot read the signing key's public half", e);
            }
            publicKey = key;
        }
        return key;
    }

    private final class KmsSigner implements JWSSigner {
        private final JCAContext jca = new JCAContext();

        @Override
        public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
            if (!JWSAlgorithm.ES256.equals(header.getAlgorithm())) {
                throw new JOSEException("only ES256 is signed by this key");
            }
            byte[] der = kms.sign(r -> r.keyId(kmsKeyId)
                    .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                    .messageType(MessageType.RAW)
                    .message(SdkBytes.fromByteArray(signingInput))).signature().asByteArray();
            // KMS returns an ASN.1 DER signature; JWS wants the fixed-length R || S form (RFC 7518 §3.4).
            // KMS does not normalise s: turn a high-S signature into its low-S twin (the only form verified).
            return Base64URL.encode(EcdsaP256.lowS(ECDSA.transcodeSignatureToConcat(der, 64)));
        }

        @Override
        public Set<JWSAlgorithm> supportedJWSAlgorithms() {
            return Set.of(JWSAlgorithm.ES256);
        }

        @Override
        public JCAContext getJCAContext() {
            return jca;
        }
    }
}
