package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A WebSocket connection opened with a valid token: whose it is, whose updates it receives, and what
 * it is re-checked with before every push. The {@code audience} is the client id, or {@link #EVERYONE}
 * for an admin, so the fan-out finds every connection an update goes to with two index queries.
 * {@code expiresAt} is the {@code exp} of the token that opened it (the row's TTL, and the instant the
 * connection ends); {@code sourceIp} is the address it connected from, which the client's allowlist
 * must keep admitting. {@code akh} and {@code iat} are the token's key id and issue time: the re-check
 * refuses the connection once that key is revoked or the client's tokens issued before a disable are.
 */
public record LiveConnection(String connectionId, String clientId, Role role, String audience, Instant connectedAt,
                             Instant expiresAt, String sourceIp, Set<String> scopes, String akh, long iat) {
    /** Not a client id ([a-z0-9_-]): the audience of admin connections. */
    public static final String EVERYONE = "*";

    public LiveConnection {
        scopes = Set.copyOf(scopes);
    }

    public static LiveConnection of(String connectionId, StreamCredential credential, String sourceIp, Instant connectedAt) {
        Principal viewer = credential.principal();
        return new LiveConnection(connectionId, viewer.clientId(), viewer.role(),
                viewer.isAdmin() ? EVERYONE : viewer.clientId(), connectedAt, credential.expiresAt(), sourceIp, viewer.scopes(),
                viewer.akh(), viewer.iat());
    }

    /** The principal the connection was opened with, as {@code Authenticator#verdict(Principal, String)} re-checks it. */
    public Principal principal() {
        return new Principal(clientId, role, scopes, dev.usagetracker.auth.Principal.DEFAULT_PLAN, akh, iat,
                expiresAt.getEpochSecond());
    }

    public StreamCredential credential() {
        return new StreamCredential(principal(), expiresAt);
    }

    /** The scopes as one space-separated string, as a token's {@code scope} claim and the table row carry them. */
    public String scope() {
        return String.join(" ", scopes.stream().sorted().toList());
    }

    public static Set<String> scopes(String scope) {
        return scope == null ? Set.of() : Arrays.stream(scope.split(" ")).filter(s -> !s.isBlank()).collect(Collectors.toUnmodifiableSet());
    }
}
