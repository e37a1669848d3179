package dev.usagetracker.realtime;

import dev.usagetracker.auth.CredentialChanges;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CredentialChanges} that, after announcing a change, also removes the client's WebSocket
 * connection rows ({@link StreamConnections#closeAllFor}), so the AWS fan-out never pushes to them again
 * and the local emulation closes their sockets. The functions that change credentials only delete rows:
 * they do not call {@code @connections}, so API Gateway closes those sockets at its idle timeout, and a
 * connection without a row gets nothing. A credential change never fails because of this: the rows are
 * written first; if the connections table cannot be reached, that is logged and the fan-out's re-check
 * of every connection before each push still refuses the revoked ones.
 */
public final class ConnectionsOnCredentialChange implements CredentialChanges {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionsOnCredentialChange.class);

    private final CredentialChanges signal;
    private final Function<String, java.util.List<String>> closeAllFor;

    /** @param closeAllFor {@code StreamConnections#closeAllFor}: deletes the client's rows, returns their ids */
    public ConnectionsOnCredentialChange(CredentialChanges signal, Function<String, java.util.List<String>> closeAllFor) {
        this.signal = signal;
        this.closeAllFor = closeAllFor;
    }

    @Override
    public void changed(String clientId) {
        signal.changed(clientId);
        try {
            int removed = closeAllFor.apply(clientId).size();
            if (removed > 0) {
                LOG.atInfo().addKeyValue("client_id", clientId).addKeyValue("connections", removed)
                        .log("live connections of a changed client removed");
            }
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("client_id", clientId).addKeyValue("error", e.getClass().getSimpleName())
                    .log("live connections of a changed client not removed; the fan-out's re-check still refuses them");
        }
    }

    @Override
    public String observe(String clientId) {
        return signal.observe(clientId);
    }
}
