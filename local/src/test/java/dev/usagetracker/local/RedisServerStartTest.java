package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A port found free can be taken before redis-server binds it (CI: "redis-server exited with 1" at a
 * stack's start). The emulator start waits out a holder that lets go, and says why when one does not.
 */
class RedisServerStartTest {
    static final Path LOGS = TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs/redis-start");

    @Test
    void aPortHeldForAMomentIsWaitedFor() throws Exception {
        ServerSocket holder = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        int port = holder.getLocalPort();
        Thread release = Thread.ofVirtual().start(() -> {
            ManagedProcess.sleep(1_500);
            try {
                holder.close();
            } catch (java.io.IOException ignored) {
                // closing a listening socket does not fail in a way this test could act on
            }
        });
        try (ManagedProcess redis = Emulators.redisServer(port, LOGS.resolve("held-" + port + ".log"))) {
            assertThat(redis.isAlive()).isTrue();
            assertThat(Emulators.redisPing(port)).isTrue();
        } finally {
            release.join();
            holder.close();
        }
    }

    @Test
    void aPortHeldForGoodFailsWithRedisOwnReason() throws Exception {
        try (ServerSocket holder = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = holder.getLocalPort();
            assertThatThrownBy(() -> Emulators.redisServer(port, LOGS.resolve("taken-" + port + ".log")))
                    .isInstanceOf(ManagedProcess.ExitedAtStart.class)
                    .hasMessageContaining("redis-server exited with 1")
                    .hasMessageContaining("Address already in use");
        }
    }
}
