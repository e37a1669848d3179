package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import java.time.Instant;

/**
 * What an open stream keeps of the credential that opened it: the principal it is re-checked with
 * ({@code Authenticator#verdict(Principal, String)}, at least every {@link StreamSettings#MAX_RECHECK}) and
 * the {@code exp} of the access token, at which the stream ends. A stream opened with a ticket carries
 * the {@code exp} of the token the ticket was issued to.
 */
public record StreamCredential(Principal principal, Instant expiresAt) {
    public boolean expiredAt(Instant now) {
        return !expiresAt.isAfter(now);
    }
}
