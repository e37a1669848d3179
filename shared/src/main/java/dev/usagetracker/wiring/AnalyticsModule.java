package dev.usagetracker.wiring;

import dev.usagetracker.analytics.EndpointBreakdown;
import dev.usagetracker.analytics.EndpointMirror;
import dev.usagetracker.analytics.ExportCursor;
import dev.usagetracker.analytics.UsageAnalytics;
import dev.usagetracker.cache.CachedAnalytics;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.store.DynamoAnalyticsStore;
import dev.usagetracker.usage.UsageStore;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Usage analytics: /hourly, /endpoints and /export behind the versioned response cache, and the mirror of
 * endpoint templates the consumer keeps after each commit (docs/analytics.md).
 */
public final class AnalyticsModule {
    private final Lazy<Optional<EndpointMirror>> endpointMirror;
    private final Lazy<CachedAnalytics> cached;

    public AnalyticsModule(Clients clients, IdentityModule identity, UsageModule usage) {
        var clock = clients.clock();
        endpointMirror = new Lazy<>(new Supplier<>() {
            @Override
            public Optional<EndpointMirror> get() {
                return clients.redis().map(EndpointMirror::new);
            }
        });
        cached = new Lazy<>(new Supplier<>() {
            @Override
            public CachedAnalytics get() {
                var config = clients.config();
                UsageStore aggregates = usage.store();
                var store = new DynamoAnalyticsStore(clients.dynamo(), config.usageTable(), config.hitsTable(), clients.usageKeys());
                var analytics = new UsageAnalytics(aggregates, store,
                        new EndpointBreakdown(aggregates, store, endpointMirror.get(), clock),
                        identity.clientStore(), usage.service(), clock);
                // The cursor key is KMS's HMAC of a constant: derived once per container, never stored.
                var cursors = new ExportCursor(new Lazy<>(() ->
                        HexFormat.of().parseHex(identity.hasher().hash("export-cursor", "key-v1")))::get);
                return new CachedAnalytics(analytics, usage.responseCache(), cursors, clock);
            }
        });
    }

    /** The consumer's after-commit mirror of endpoint templates, if Redis is configured. */
    public Optional<EndpointMirror> endpointMirror() { return endpointMirror.get(); }

    /** /hourly, /endpoints and /export behind the versioned response cache. */
    public CachedAnalytics cached() { return cached.get(); }
}
