package dev.usagetracker;

import dev.usagetracker.config.Config;
import dev.usagetracker.config.Entropy;
import dev.usagetracker.config.LambdaEnvironment;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.config.Priming;
import dev.usagetracker.wiring.AnalyticsModule;
import dev.usagetracker.wiring.Clients;
import dev.usagetracker.wiring.AccountsModule;
import dev.usagetracker.wiring.ErasureModule;
import dev.usagetracker.wiring.IdentityModule;
import dev.usagetracker.wiring.IngestModule;
import dev.usagetracker.wiring.PlansModule;
import dev.usagetracker.wiring.RealtimeModule;
import dev.usagetracker.wiring.UsageModule;
import dev.usagetracker.wiring.Warmup;
import dev.usagetracker.wiring.Warmups;
import dev.usagetracker.wiring.WebhooksModule;
import java.time.Clock;

/**
 * Composition root: one per container, built in a handler's static initialiser (SnapStart-ready). It holds
 * the shared clients and one module per capability (package {@code wiring}); each module is built on first
 * use, and builds each of its services on first use, so a function pays only for what its handler reaches.
 */
public final class App {
    private final Clients clients;
    private final Priming priming;
    // Each module on first use; the lambdas read the fields (through accessors) only when called.
    private final Lazy<IdentityModule> identity = new Lazy<>(() -> new IdentityModule(clients()));
    private final Lazy<PlansModule> plans = new Lazy<>(() -> new PlansModule(clients(), identity()));
    private final Lazy<UsageModule> usage = new Lazy<>(() -> new UsageModule(clients(), identity()));
    private final Lazy<AnalyticsModule> analytics = new Lazy<>(() -> new AnalyticsModule(clients(), identity(), usage()));
    private final Lazy<WebhooksModule> webhooks = new Lazy<>(() -> new WebhooksModule(clients(), identity()));
    private final Lazy<IngestModule> ingest = new Lazy<>(() ->
            new IngestModule(clients(), identity(), usage(), analytics(), plans(), webhooks()));
    private final Lazy<RealtimeModule> realtime = new Lazy<>(() -> new RealtimeModule(clients(), identity(), plans()));
    private final Lazy<AccountsModule> accounts = new Lazy<>(() -> new AccountsModule(clients(), identity(), plans(), realtime()));
    private final Lazy<ErasureModule> erasure = new Lazy<>(() -> new ErasureModule(clients(), identity()));

    public App(Config config, Clock clock) {
        clients = new Clients(config, clock);
        priming = new Priming(Priming.mode(LambdaEnvironment.get()));
        priming.onRestore(Entropy::reseed);
    }

    public static App fromEnvironment() {
        return new App(Config.fromEnvironment(), Clock.systemUTC());
    }

    public Config config() { return clients.config(); }
    public Clock clock() { return clients.clock(); }
    /** DynamoDB, SQS, KMS and Redis, one of each per container. */
    public Clients clients() { return clients; }
    public IdentityModule identity() { return identity.get(); }
    public PlansModule plans() { return plans.get(); }
    public UsageModule usage() { return usage.get(); }
    public AnalyticsModule analytics() { return analytics.get(); }
    public WebhooksModule webhooks() { return webhooks.get(); }
    public IngestModule ingest() { return ingest.get(); }
    public RealtimeModule realtime() { return realtime.get(); }
    public AccountsModule accounts() { return accounts.get(); }
    public ErasureModule erasure() { return erasure.get(); }
    public Priming priming() { return priming; }

    /** Runs the warm-ups before the SnapStart snapshot, or now, as PRIMING says. */
    public void prime(Warmup... warmups) {
        new Warmups(priming, clients, identity).prime(warmups);
    }
}
