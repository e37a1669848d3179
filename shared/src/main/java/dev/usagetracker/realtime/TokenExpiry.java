package dev.usagetracker.realtime;

import dev.usagetracker.auth.TokenService;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import java.time.Instant;

/**
 * The {@code exp} of the access token that opens a stream (directly, or through a ticket), read from the
 * token after verifying its signature again: a stream ends at that instant. The verification is local
 * (the public key is cached), so this costs no call.
 */
public final class TokenExpiry {
    private final TokenService tokens;

    public TokenExpiry(TokenService tokens) {
        this.tokens = tokens;
    }

    /** The expiry of a bearer token; 401 if it does not verify. */
    public Instant of(String token) {
        return tokens.verifyToken(token).expiresAt();
    }

    /** The expiry of the request's {@code Authorization: Bearer} token (already admitted by the authenticator). */
    public Instant ofBearer(HttpRequest request) {
        String header = request.header("Authorization").map(String::trim).orElse("");
        if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("Send an access token: Authorization: Bearer <token> (POST /api/token).");
        }
        return of(header.substring(7).trim());
    }
}
