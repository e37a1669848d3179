package dev.usagetracker.realtime;

import dev.usagetracker.auth.AccessVerdict;
import dev.usagetracker.auth.Principal;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes each daily aggregate change, and each quota threshold claimed, to the WebSocket connections that
 * may see it: the client's own and every admin's. Before the first push of a batch to a connection, the connection is re-checked: past
 * its token's {@code exp}, or refused by the Authenticator (client gone or disabled, key rotated away,
 * address no longer allowed — the one revocation mechanism), its row is deleted and the socket closed,
 * and it gets nothing. A connection API Gateway reports gone (it closed without a {@code $disconnect}
 * reaching us) is deleted too. Live updates are best effort: a failed push is logged and skipped, never
 * retried, since a retry would send the batch again to everyone who already got it.
 */
public final class UsageFanout {
    private static final Logger LOG = LoggerFactory.getLogger(UsageFanout.class);

    /** {@code Authenticator#verdict(Principal, String sourceIp)}: may this principal still read, from this address? */
    @FunctionalInterface
    public interface Recheck {
        AccessVerdict verdict(Principal principal, String sourceIp);
    }

    private final ConnectionStore store;
    private final LiveConnections connections;
    private final Recheck recheck;
    private final Clock clock;

    /**
     * {@code revoked}: connections found expired or refused, whose rows were deleted; {@code unchecked}:
     * pushes skipped because the credentials could not be checked (the store did not answer).
     */
    public record Result(int delivered, int gone, int failed, int revoked, int unchecked) {
        public Result(int delivered, int gone, int failed) {
            this(delivered, gone, failed, 0, 0);
        }
    }

    public UsageFanout(ConnectionStore store, LiveConnections connections, Recheck recheck, Clock clock) {
        this.store = store;
        this.connections = connections;
        this.recheck = recheck;
        this.clock = clock;
    }

    private enum Admission { ALLOWED, REVOKED, UNCHECKED }

    public Result push(List<UsageChange> changes) {
        if (changes.isEmpty()) return new Result(0, 0, 0);
        // One index query per audience per batch, however many changes it has.
        Map<String, List<LiveConnection>> audiences = new HashMap<>();
        List<LiveConnection> admins = store.audience(LiveConnection.EVERYONE);
        // Each connection is checked once per batch, before its first push.
        Map<String, Admission> admissions = new HashMap<>();
        int delivered = 0, gone = 0, failed = 0;
        Set<String> dropped = new HashSet<>();
        for (UsageChange change : changes) {
            List<LiveConnection> own = audiences.computeIfAbsent(change.clientId(), store::audience);
            String frame = change.frame();
            for (List<LiveConnection> targets : List.of(own, admins)) {
                for (LiveConnection target : targets) {
                    String connectionId = target.connectionId();
                    if (dropped.contains(connectionId)) continue;
                    if (admissions.computeIfAbsent(connectionId, id -> admit(target)) != Admission.ALLOWED) continue;
                    switch (connections.send(connectionId, frame)) {
                        case DELIVERED -> delivered++;
                        case GONE -> {
                            gone++;
                            dropped.add(connectionId);
                            store.delete(connectionId);
                        }
                        case FAILED -> failed++;
                    }
                }
            }
        }
        int revoked = (int) admissions.values().stream().filter(a -> a == Admission.REVOKED).count();
        int unchecked = (int) admissions.values().stream().filter(a -> a == Admission.UNCHECKED).count();
        if (failed > 0) LOG.warn("{} live update pushes failed", failed);
        if (unchecked > 0) LOG.warn("{} connections not pushed to: their credentials could not be checked", unchecked);
        return new Result(delivered, gone, failed, revoked, unchecked);
    }

    private Admission admit(LiveConnection c) {
        if (!c.expiresAt().isAfter(clock.instant())) return revoke(c, "expired");
        AccessVerdict verdict = recheck.verdict(c.principal(), c.sourceIp());
        return switch (verdict.outcome()) {
            case ALLOW -> Admission.ALLOWED;
            // Fail closed for this batch, but keep the row: the next batch checks again.
            case UNAVAILABLE -> Admission.UNCHECKED;
            case UNAUTHENTICATED, FORBIDDEN, DISABLED -> revoke(c, "revoked");
        };
    }

    private Admission revoke(LiveConnection c, String why) {
        store.delete(c.connectionId());
        LiveConnections.Delivery closed = connections.close(c.connectionId());
        LOG.atInfo().addKeyValue("client_id", c.clientId()).addKeyValue("why", why).addKeyValue("closed", closed)
                .log("live connection ended by the fan-out");
        return Admission.REVOKED;
    }
}
