package dev.usagetracker.plans;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.TestClock;
import dev.usagetracker.ratelimit.RateLimitSettings;
import dev.usagetracker.ratelimit.RouteClass;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Stale while the store is unhealthy (issue 30): over a store that can be made to fail, and a test clock. */
class CachedPlanCatalogTest {
    private final Map<String, String> env = Map.of("RATE_LIMIT_INGEST", "500/1m", "PLAN_CACHE_SECONDS", "30");
    private final PlanSettings settings = PlanSettings.from(env, RateLimitSettings.from(env));
    private final TestClock clock = new TestClock(Instant.parse("2026-12-06T10:00:00Z"));
    private final AtomicBoolean failing = new AtomicBoolean();
    /** When set, a read waits on it: a store that hangs (FaultInjectionIT's paused moto_server). */
    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch> hang =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final AtomicInteger reads = new AtomicInteger();
    private volatile Plan stored = new Plan("loadtest", Map.of(), null, Enforcement.REPORT, List.of());
    private final PlanStore store = new PlanStore() {
        @Override
        public Optional<Plan> find(String name) {
            reads.incrementAndGet();
            var latch = hang.get();
            if (latch != null) {
                try {
                    latch.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failing.get()) throw new IllegalStateException("the store timed out");
            return name.equals(stored.name()) ? Optional.of(stored) : Optional.empty();
        }

        @Override
        public List<Plan> list() {
            return List.of(stored);
        }

        @Override
        public void put(Plan plan) {
            stored = plan;
        }
    };
    private final CachedPlanCatalog catalog = new CachedPlanCatalog(store, settings, clock);

    @Test
    void aPlanThatCannotBeReadAgainKeepsItsLastValueAndIsRetriedSoon() {
        assertThat(catalog.planOf("loadtest").limits().getOrDefault(RouteClass.INGEST, List.of())).isEmpty();
        failing.set(true);
        clock.advance(Duration.ofSeconds(31));
        int before = reads.get();
        // every limit off, as last read: not the default plan's 500/1m
        assertThat(catalog.planOf("loadtest").name()).isEqualTo("loadtest");
        assertThat(catalog.planOf("loadtest").limits().getOrDefault(RouteClass.INGEST, List.of())).isEmpty();
        assertThat(reads.get() - before).as("one failed read, then the stale value without asking again").isEqualTo(1);

        clock.advance(CachedPlanCatalog.RETRY_AFTER_FAILURE);
        failing.set(false);
        stored = new Plan("loadtest", Map.of(RouteClass.INGEST, settings.defaultPlan().limits().get(RouteClass.INGEST)),
                null, Enforcement.REPORT, List.of());
        assertThat(catalog.planOf("loadtest").limits().get(RouteClass.INGEST)).isNotEmpty();
    }

    @Test
    void aHungStoreCostsARequestThePatienceNotTheRead() throws Exception {
        assertThat(catalog.planOf("loadtest").limits().getOrDefault(RouteClass.INGEST, List.of())).isEmpty();
        var release = new java.util.concurrent.CountDownLatch(1);
        hang.set(release);
        stored = new Plan("loadtest", Map.of(RouteClass.INGEST, settings.defaultPlan().limits().get(RouteClass.INGEST)),
                null, Enforcement.REPORT, List.of());
        clock.advance(Duration.ofSeconds(31));
        int before = reads.get();
        // Before the fix this call waited for the store: the request then spent its own database work's timeout too.
        Plan meanwhile = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> catalog.planOf("loadtest"));
        assertThat(meanwhile.limits().getOrDefault(RouteClass.INGEST, List.of())).as("the value last read answers").isEmpty();
        assertThat(release.getCount()).as("the read is still hanging").isEqualTo(1);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () -> catalog.planOf("loadtest"));
        assertThat(reads.get() - before).as("a request that meets the read in progress waits on it, it does not start another")
                .isEqualTo(1);

        hang.set(null);
        release.countDown();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (catalog.planOf("loadtest").limits().getOrDefault(RouteClass.INGEST, List.of()).isEmpty()) {
            assertThat(System.nanoTime()).as("the read, once it ends, updates the cache").isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(reads.get() - before).as("no other read was needed").isEqualTo(1);
    }

    @Test
    void aPlanNeverReadFallsBackToTheDefaultsOnlyUntilTheNextRetry() {
        failing.set(true);
        assertThat(catalog.planOf("loadtest").name()).isEqualTo(Plan.DEFAULT);
        clock.advance(CachedPlanCatalog.RETRY_AFTER_FAILURE.minusSeconds(1));
        assertThat(catalog.planOf("loadtest").name()).isEqualTo(Plan.DEFAULT);
        failing.set(false);
        clock.advance(Duration.ofSeconds(1));
        // not kept for the 30 s TTL: the plan is read as soon as the retry interval has passed
        assertThat(catalog.planOf("loadtest").name()).isEqualTo("loadtest");
    }
}
