package dev.usagetracker.crypto;

import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jwk.JWKSet;

/** The key that signs access tokens (private half wherever it lives) and its public JWKs. */
public interface SigningKeys {
    JWSSigner signer();

    /** Key id of the signer, as published in the JWK set. */
    String keyId();

    JWKSet publicKeys();
}
