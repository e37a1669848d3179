package dev.usagetracker.wiring;

import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.ContainerLifecycle;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.realtime.ApiGatewayConnections;
import dev.usagetracker.realtime.ConnectionStore;
import dev.usagetracker.realtime.ConnectionsOnCredentialChange;
import dev.usagetracker.realtime.LiveConnections;
import dev.usagetracker.realtime.StreamConnections;
import dev.usagetracker.realtime.StreamTickets;
import dev.usagetracker.realtime.TokenExpiry;
import dev.usagetracker.realtime.UsageFanout;
import dev.usagetracker.store.DynamoConnectionStore;
import java.net.URI;
import java.util.Optional;
import java.util.function.Supplier;

/** Live usage: SSE tickets, the WebSocket API's connections, and the fan-out of usage changes to them. */
public final class RealtimeModule {
    private final Clients clients;
    private final IdentityModule identity;
    private final PlansModule plans;
    private final Lazy<ConnectionStore> connectionStore;

    public RealtimeModule(Clients clients, IdentityModule identity, PlansModule plans) {
        this.clients = clients;
        this.identity = identity;
        this.plans = plans;
        connectionStore = new Lazy<>(() -> new DynamoConnectionStore(clients.dynamo(),
                clients.config().stream().connectionsTable()));
    }

    public ConnectionStore connectionStore() { return connectionStore.get(); }

    /** Single-use tickets for SSE clients that cannot send headers (a browser's EventSource). */
    public StreamTickets tickets() {
        return new StreamTickets(clients.redis());
    }

    /** The exp of the access token that opens a stream (a stream ends at it). */
    public TokenExpiry tokenExpiry() {
        return new TokenExpiry(identity.tokens());
    }

    /**
     * The WebSocket API's $connect and $disconnect, and {@code closeAllFor(clientId)} for credential
     * changes: it also closes the sockets where WEBSOCKET_CALLBACK_URL is set (and the jar has the
     * management API client), else it only deletes the rows.
     */
    public StreamConnections connections() {
        var stream = clients.config().stream();
        Optional<LiveConnections> sockets = stream.callbackUrl().isEmpty() ? Optional.empty() : Optional.of(liveConnections());
        return new StreamConnections(identity.authenticator(), tokenExpiry(), plans.rateLimits(), connectionStore.get(), sockets,
                clients.clock(), stream.maxStreamsPerClient());
    }

    /** Usage changes to WebSocket connections through {@code @connections} (WEBSOCKET_CALLBACK_URL). */
    public UsageFanout fanout() {
        // Every connection is re-checked with the one revocation mechanism before it is pushed to.
        Authenticator auth = identity.authenticator();
        return new UsageFanout(connectionStore.get(), liveConnections(), auth::verdict, clients.clock());
    }

    /**
     * The revocation signal for the services that change credentials (rotation, allowlist, the admin's
     * PATCH): after the signal, the client's WebSocket connection rows are deleted (rows only: these
     * functions do not reach @connections; a failure is logged, never the change's).
     */
    public CredentialChanges credentialChangesClosingConnections() {
        return new ConnectionsOnCredentialChange(identity.credentialChanges(), clientId ->
                new StreamConnections(null, null, null, connectionStore.get(), Optional.empty(), clients.clock())
                        .closeAllFor(clientId));
    }

    private LiveConnections liveConnections() {
        // An anonymous class, not a lambda: only jars that reach @connections hold the API Gateway management client.
        var config = clients.config();
        return new Supplier<LiveConnections>() {
            @Override
            public LiveConnections get() {
                URI callback = config.stream().callbackUrl().orElseThrow(() ->
                        new IllegalStateException("WEBSOCKET_CALLBACK_URL is not set"));
                return new ApiGatewayConnections(ContainerLifecycle.register(
                        AwsClients.connections(config, callback, config.stream().callbackSecret())));
            }
        }.get();
    }
}
