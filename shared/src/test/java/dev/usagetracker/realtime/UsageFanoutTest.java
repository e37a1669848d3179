package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UsageFanoutTest {
    private final Map<String, LiveConnection> rows = new HashMap<>();
    private final List<String> queries = new ArrayList<>();
    private final ConnectionStore store = new ConnectionStore() {
        @Override
        public void put(LiveConnection c) {
            rows.put(c.connectionId(), c);
        }

        @Override
        public void delete(String id) {
            rows.remove(id);
        }

        @Override
        public Optional<LiveConnection> find(String id) {
            return Optional.ofNullable(rows.get(id));
        }

        @Override
        public List<String> audience(String audience) {
            queries.add(audience);
            return rows.values().stream().filter(c -> c.audience().equals(audience)).map(LiveConnection::connectionId).sorted().toList();
        }
    };
    private final Map<String, List<String>> sent = new HashMap<>();
    private final Map<String, LiveConnections.Delivery> answers = new HashMap<>();
    private final UsageFanout fanout = new UsageFanout(store, (id, message) -> {
        LiveConnections.Delivery d = answers.getOrDefault(id, LiveConnections.Delivery.DELIVERED);
        if (d == LiveConnections.Delivery.DELIVERED) sent.computeIfAbsent(id, k -> new ArrayList<>()).add(message);
        return d;
    });

    @Test
    void eachChangeGoesToItsClientsConnectionsAndEveryAdminsOnce() {
        connect("a1", "acme", Role.CLIENT);
        connect("a2", "acme", Role.CLIENT);
        connect("g1", "globex", Role.CLIENT);
        connect("root", "admin", Role.ADMIN);
        UsageFanout.Result r = fanout.push(List.of(new UsageChange("11", "acme", "2026-11-25", 3),
                new UsageChange("12", "globex", "2026-11-25", 1), new UsageChange("13", "acme", "2026-11-25", 4)));
        assertThat(r).isEqualTo(new UsageFanout.Result(8, 0, 0));
        assertThat(sent.get("a1")).containsExactly(frame("11", "acme", 3), frame("13", "acme", 4));
        assertThat(sent.get("g1")).containsExactly(frame("12", "globex", 1));
        assertThat(sent.get("root")).hasSize(3);
        // one index query per audience for the whole batch
        assertThat(queries).containsExactlyInAnyOrder(LiveConnection.EVERYONE, "acme", "globex");
    }

    @Test
    void aGoneConnectionIsDeletedAndNotTriedAgainAndAFailureIsOnlyCounted() {
        connect("a1", "acme", Role.CLIENT);
        connect("stale", "acme", Role.CLIENT);
        connect("flaky", "acme", Role.CLIENT);
        answers.put("stale", LiveConnections.Delivery.GONE);
        answers.put("flaky", LiveConnections.Delivery.FAILED);
        UsageFanout.Result r = fanout.push(List.of(new UsageChange("1", "acme", "2026-11-25", 1),
                new UsageChange("2", "acme", "2026-11-25", 2)));
        assertThat(r).isEqualTo(new UsageFanout.Result(2, 1, 2));
        assertThat(rows).containsOnlyKeys("a1", "flaky");
    }

    @Test
    void nothingToPushQueriesNothing() {
        assertThat(fanout.push(List.of())).isEqualTo(new UsageFanout.Result(0, 0, 0));
        assertThat(queries).isEmpty();
    }

    private void connect(String id, String client, Role role) {
        store.put(LiveConnection.of(id, new Principal(client, role, Principal.scopesFor(role)), Instant.EPOCH, Instant.EPOCH));
    }

    private static String frame(String id, String client, long count) {
        return new UsageMessage(client, "2026-11-25", count).frame(id);
    }
}
