package dev.usagetracker.erasure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.Credentials;
import dev.usagetracker.clients.InMemoryClientStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientEraserTest {
    final InMemoryClientStore clients = new InMemoryClientStore();
    final List<String> steps = new ArrayList<>();
    final ErasureStore store = new ErasureStore() {
        @Override
        public long deleteUsage(String clientId) {
            steps.add("usage " + clientId);
            return 5;
        }

        @Override
        public long deleteOwnedItems(String clientId) {
            steps.add("owned " + clientId);
            return 3;
        }

        @Override
        public boolean deleteErasingRow(String clientId) {
            steps.add("row " + clientId);
            clients.remove(clientId);
            return true;
        }
    };
    final RedisErasure redis = id -> {
        steps.add("redis " + id);
        return 2;
    };
    final ClientEraser eraser = new ClientEraser(clients, store, redis);

    @Test
    void anErasingClientIsSweptAndItsRowGoesLast() {
        clients.add(new Client("acme", "Acme", Role.CLIENT, List.of(), Instant.EPOCH));
        clients.setState("acme", false, Credentials.ERASING, 1);
        var result = eraser.erase("acme");
        assertThat(steps).containsExactly("redis acme", "usage acme", "owned acme", "redis acme", "row acme");
        assertThat(result).isEqualTo(new ClientEraser.Result("acme", true, 9, 4));
    }

    @Test
    void anActiveClientIsNeverErasedByAMessage() {
        clients.add(new Client("acme", "Acme", Role.CLIENT, List.of(), Instant.EPOCH));
        assertThat(eraser.erase("acme").erased()).isFalse();
        assertThat(steps).isEmpty();
        assertThat(clients.find("acme")).isPresent();
    }

    @Test
    void aRepeatedDeliveryAfterTheRowIsGoneTouchesNothing() {
        assertThat(eraser.erase("gone").erased()).isFalse();
        assertThat(steps).isEmpty();
    }

    @Test
    void unreadableMessagesAndFailuresAreReportedForRedelivery() {
        clients.add(new Client("acme", "Acme", Role.CLIENT, List.of(), Instant.EPOCH));
        clients.setState("acme", false, Credentials.ERASING, 1);
        var failing = new ClientEraser(clients, store, id -> {
            throw new IllegalStateException("redis down");
        });
        assertThat(failing.process(Map.of("m1", "{\"client_id\":\"acme\"}"))).containsExactly("m1");
        assertThat(clients.find("acme")).isPresent();
        assertThat(eraser.process(Map.of("m2", "not json", "m3", "{\"client_id\":\"../x\"}"))).containsExactlyInAnyOrder("m2", "m3");
        assertThat(eraser.process(Map.of("m4", "{\"client_id\":\"acme\"}"))).isEmpty();
        assertThat(clients.find("acme")).isEmpty();
    }
}
