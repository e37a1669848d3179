package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.http.Json;
import dev.usagetracker.realtime.UsageEvents;
import dev.usagetracker.realtime.UsageFeed;
import dev.usagetracker.realtime.UsageHub;
import dev.usagetracker.realtime.UsageUpdate;
import dev.usagetracker.redis.Redis;
import dev.usagetracker.redis.RedisSettings;
import io.lettuce.core.KillArgs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The process-wide subscription against the real redis-server: Pub/Sub delivers only to whoever is
 * subscribed at that moment, so after Lettuce re-subscribes a dropped connection the hub reads back from
 * the stream what it missed.
 */
@ExtendWith(TestStack.Extension.class)
class UsageHubIT {
    @Test
    void whatWasAnnouncedWhileTheSubscriptionWasDownIsReadBackFromTheStream(TestStack stack) throws Exception {
        try (Redis redis = new Redis(stack.emulators().redisUrl(), RedisSettings.from(Map.of("REDIS_KEY_PREFIX", "ut:hub-it:",
                "REDIS_TIMEOUT_MS", "2000")));
             UsageHub hub = UsageHub.start(new UsageFeed(redis), Duration.ofMillis(200))) {
            assertThat(hub.awaitLive(Duration.ofSeconds(10))).isTrue();
            List<UsageUpdate> seen = new CopyOnWriteArrayList<>();
            hub.subscribe(u -> u.clientId().equals("hub-it"), seen::add);
            UsageEvents events = new UsageEvents(redis);
            UsageUpdate first = events.publish(List.of(update(1))).getFirst();
            Await.until(Duration.ofSeconds(10), "the live update", () -> seen.size() == 1);

            // An announcement that reached the stream but never the channel (as if published while the
            // subscription was down), then the subscription drops; Lettuce reconnects by itself.
            String missed = redis.call(c -> c.xadd(UsageEvents.stream(redis), Map.of("data",
                    new String(Json.write(update(2)), StandardCharsets.UTF_8))));
            long killed = redis.call(c -> c.clientKill(KillArgs.Builder.typePubsub()));
            assertThat(killed).isPositive();

            Await.until(Duration.ofSeconds(15), "the missed update to be read back", () -> seen.size() == 2);
            assertThat(seen).extracting(UsageUpdate::eventId).containsExactly(first.eventId(), missed);
            // and live again afterwards, each update once
            UsageUpdate third = events.publish(List.of(update(3))).getFirst();
            Await.until(Duration.ofSeconds(10), "the next live update", () -> seen.size() == 3);
            assertThat(seen.get(2).eventId()).isEqualTo(third.eventId());
            assertThat(hub.live()).isTrue();
        }
    }

    private static UsageUpdate update(long count) {
        return new UsageUpdate("", "hub-it", "2026-11-25", "2026-11-25T10", count, count, 1);
    }
}
