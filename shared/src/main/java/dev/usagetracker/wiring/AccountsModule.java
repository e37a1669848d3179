package dev.usagetracker.wiring;

import dev.usagetracker.clients.AdminBootstrap;
import dev.usagetracker.clients.ClientAdministration;
import dev.usagetracker.clients.ClientListService;
import dev.usagetracker.clients.ClientSettingsService;
import dev.usagetracker.clients.RegistrationService;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.store.DynamoClientStore;

/** A registered client's account: registration, its own settings and key rotation, and the admin's client routes. */
public final class AccountsModule {
    private final Clients clients;
    private final IdentityModule identity;
    private final PlansModule plans;
    private final RealtimeModule realtime;
    private final Lazy<RegistrationService> registration;

    public AccountsModule(Clients clients, IdentityModule identity, PlansModule plans, RealtimeModule realtime) {
        this.clients = clients;
        this.identity = identity;
        this.plans = plans;
        this.realtime = realtime;
        registration = new Lazy<>(() -> new RegistrationService(identity.clientStore(), identity.hasher(), identity.cipher(),
                clients.clock()));
    }

    /** POST /api/register. */
    public RegistrationService registration() { return registration.get(); }

    /** The admin client from ADMIN_API_KEY (the local runtime and the benchmarks). */
    public AdminBootstrap adminBootstrap() {
        return new AdminBootstrap(identity.clientStore(), registration.get(), identity.hasher(), identity.cipher(), clients.clock());
    }

    /** Key rotation and the client's own allowlist; each change closes the client's WebSocket connections. */
    public ClientSettingsService settings() {
        return new ClientSettingsService(identity.clientStore(), identity.hasher(), identity.cipher(), clients.clock(),
                realtime.credentialChangesClosingConnections());
    }

    /** GET /api/clients/me|{id} and the admin's PATCH; a plan named there must exist in the plan catalog. */
    public ClientAdministration administration() {
        return new ClientAdministration(identity.clientStore(), identity.cipher(), plans.catalog()::exists,
                realtime.credentialChangesClosingConnections(), clients.clock());
    }

    /** GET /api/clients: paged through the by_entity index, cursors sealed by the KMS MAC key. */
    public ClientListService list() {
        return new ClientListService((DynamoClientStore) identity.clientStore(), identity.hasher());
    }
}
