package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UsageHubTest {
    private final UsageHub hub = new UsageHub(null, Duration.ofSeconds(1)); // never started: updates are fed by hand
    private static final Principal ACME = new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
    private static final Principal ADMIN = new Principal("admin", Role.ADMIN, Principal.scopesFor(Role.ADMIN));

    @Test
    void aClientGetsItsOwnUpdatesAndTheAdminEveryones() {
        List<String> acme = new ArrayList<>(), admin = new ArrayList<>();
        hub.subscribe(ACME, u -> acme.add(u.eventId()));
        hub.subscribe(ADMIN, u -> admin.add(u.eventId()));
        hub.dispatch(update("1-0", "acme", 1));
        hub.dispatch(update("2-0", "globex", 1));
        assertThat(acme).containsExactly("1-0");
        assertThat(admin).containsExactly("1-0", "2-0");
    }

    @Test
    void anAnnouncementSeenTwiceOrACountThatWouldGoBackIsNotDelivered() {
        List<Long> counts = new ArrayList<>();
        hub.subscribe(ADMIN, u -> counts.add(u.count()));
        hub.dispatch(update("5-0", "acme", 10));
        hub.dispatch(update("5-0", "acme", 10)); // re-read after a lost subscription
        hub.dispatch(update("4-0", "acme", 9));  // another consumer published late
        hub.dispatch(update("6-0", "acme", 10)); // same count again: nothing new
        hub.dispatch(update("7-0", "acme", 12));
        hub.dispatch(update("8-0", "acme-other-day", 1));
        assertThat(counts).containsExactly(10L, 12L, 1L);
    }

    @Test
    void aClosedSubscriptionGetsNothingAndAFailingOneDoesNotStopTheOthers() {
        List<String> kept = new ArrayList<>(), closed = new ArrayList<>();
        hub.subscribe(ADMIN, u -> {
            throw new IllegalStateException("a broken client");
        });
        UsageHub.Subscription gone = hub.subscribe(ADMIN, u -> closed.add(u.eventId()));
        hub.subscribe(ADMIN, u -> kept.add(u.eventId()));
        gone.close();
        hub.dispatch(update("1-0", "acme", 1));
        assertThat(kept).containsExactly("1-0");
        assertThat(closed).isEmpty();
        assertThat(hub.subscribers()).isEqualTo(2);
        assertThat(hub.live()).isFalse();
    }

    @Test
    void streamIdsAreComparedAsNumbers() {
        assertThat(UsageFeed.compareIds("10-0", "9-5")).isPositive();
        assertThat(UsageFeed.compareIds("9-10", "9-9")).isPositive();
        assertThat(UsageFeed.compareIds("9-1", "9-1")).isZero();
        assertThat(UsageFeed.isEventId("1764072000000-0")).isTrue();
        assertThat(UsageFeed.isEventId("$")).isFalse();
        assertThat(UsageFeed.isEventId("1-2-3")).isFalse();
    }

    private static UsageUpdate update(String id, String client, long count) {
        return new UsageUpdate(id, client, "2026-11-25", "2026-11-25T10", count, count, 1);
    }
}
