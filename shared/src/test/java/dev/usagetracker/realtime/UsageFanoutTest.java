package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.auth.AccessVerdict;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
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
        public List<LiveConnection> audience(String audience) {
            queries.add(audience);
            return rows.values().stream().filter(c -> c.audience().equals(audience))
                    .sorted(java.util.Comparator.comparing(LiveConnection::connectionId)).toList();
        }
    };
    private static final Instant NOW = Instant.parse("2026-11-26T07:00:00Z");
    private final Map<String, List<String>> sent = new HashMap<>();
    private final List<String> closed = new ArrayList<>();
    private final Map<String, LiveConnections.Delivery> answers = new HashMap<>();
    /** What the Authenticator says about a client (ALLOW unless set). */
    private final Map<String, AccessVerdict> verdicts = new HashMap<>();
    private final List<String> checked = new ArrayList<>();
    private final LiveConnections sockets = new LiveConnections() {
        @Override
        public Delivery send(String id, String message) {
            Delivery d = answers.getOrDefault(id, Delivery.DELIVERED);
            if (d == Delivery.DELIVERED) sent.computeIfAbsent(id, k -> new ArrayList<>()).add(message);
            return d;
        }

        @Override
        public Delivery close(String id) {
            closed.add(id);
            return Delivery.DELIVERED;
        }
    };
    private final UsageFanout fanout = new UsageFanout(store, sockets, (principal, sourceIp) -> {
        checked.add(principal.clientId() + "@" + sourceIp);
        return verdicts.getOrDefault(principal.clientId(), AccessVerdict.allow(principal));
    }, Clock.fixed(NOW, ZoneOffset.UTC));

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
    void aConnectionPastItsTokensExpIsDeletedAndClosedAndGetsNothing() {
        connect("a1", "acme", Role.CLIENT);
        store.put(LiveConnection.of("late", new StreamCredential(new Principal("acme", Role.CLIENT,
                Principal.scopesFor(Role.CLIENT)), NOW), "127.0.0.1", NOW.minusSeconds(60)));
        UsageFanout.Result r = fanout.push(List.of(new UsageChange("1", "acme", "2026-11-25", 1)));
        assertThat(r).isEqualTo(new UsageFanout.Result(1, 0, 0, 1, 0));
        assertThat(sent).containsOnlyKeys("a1");
        assertThat(rows).containsOnlyKeys("a1");
        assertThat(closed).containsExactly("late");
        // an expired connection is not even asked about
        assertThat(checked).containsExactly("acme@127.0.0.1");
    }

    @Test
    void aConnectionTheAuthenticatorRefusesIsDeletedAndClosedOthersStillGetTheirs() {
        connect("a1", "acme", Role.CLIENT);
        connect("g1", "globex", Role.CLIENT);
        connect("root", "admin", Role.ADMIN);
        verdicts.put("acme", AccessVerdict.forbidden("Calls for this client are not allowed from this address."));
        verdicts.put("admin", AccessVerdict.unauthenticated("The access token's client no longer exists."));
        UsageFanout.Result r = fanout.push(List.of(new UsageChange("1", "acme", "2026-11-25", 1),
                new UsageChange("2", "globex", "2026-11-25", 1), new UsageChange("3", "acme", "2026-11-25", 2)));
        assertThat(r).isEqualTo(new UsageFanout.Result(1, 0, 0, 2, 0));
        assertThat(sent).containsOnlyKeys("g1");
        assertThat(rows).containsOnlyKeys("g1");
        assertThat(closed).containsExactlyInAnyOrder("a1", "root");
        // each connection is checked once per batch, with the address it connected from
        assertThat(checked).containsExactlyInAnyOrder("acme@127.0.0.1", "globex@127.0.0.1", "admin@127.0.0.1");
    }

    @Test
    void credentialsThatCannotBeCheckedSkipThePushButKeepTheRow() {
        connect("a1", "acme", Role.CLIENT);
        verdicts.put("acme", AccessVerdict.unavailable("The credentials cannot be checked right now."));
        UsageFanout.Result r = fanout.push(List.of(new UsageChange("1", "acme", "2026-11-25", 1)));
        assertThat(r).isEqualTo(new UsageFanout.Result(0, 0, 0, 0, 1));
        assertThat(sent).isEmpty();
        assertThat(rows).containsOnlyKeys("a1");
        assertThat(closed).isEmpty();
    }

    @Test
    void closeAllForRemovesAndClosesEveryConnectionOfTheClientIncludingItsAdminOnes() {
        connect("a1", "acme", Role.CLIENT);
        connect("a2", "acme", Role.CLIENT);
        connect("g1", "globex", Role.CLIENT);
        connect("root", "admin", Role.ADMIN);
        connect("root2", "admin2", Role.ADMIN);
        assertThat(store.ofClient("acme")).extracting(LiveConnection::connectionId).containsExactly("a1", "a2");
        // closeAllFor uses only the store and @connections
        StreamConnections connections = new StreamConnections(null, null, null, store, Optional.of(sockets),
                Clock.fixed(NOW, ZoneOffset.UTC));
        assertThat(connections.closeAllFor("acme")).containsExactly("a1", "a2");
        assertThat(connections.closeAllFor("admin")).containsExactly("root");
        assertThat(rows).containsOnlyKeys("g1", "root2");
        assertThat(closed).containsExactly("a1", "a2", "root");
        // without @connections (a function that cannot reach it) the rows still go
        connect("a3", "acme", Role.CLIENT);
        new StreamConnections(null, null, null, store, Optional.empty(), Clock.fixed(NOW, ZoneOffset.UTC)).closeAllFor("acme");
        assertThat(rows).containsOnlyKeys("g1", "root2");
    }

    @Test
    void aThresholdGoesToItsClientsConnectionsAndAdminsOnlyAfterTheSameRecheck() {
        connect("a1", "acme", Role.CLIENT);
        connect("a2", "acme", Role.CLIENT);
        connect("g1", "globex", Role.CLIENT);
        connect("root", "admin", Role.ADMIN);
        verdicts.put("admin", AccessVerdict.unauthenticated("The access token's client no longer exists."));
        var alert = new dev.usagetracker.alerts.ThresholdAlert("acme", "2026-11", 80, 1000, 801);
        UsageFanout.Result r = fanout.push(List.of(UsageChange.threshold("21", alert)));
        assertThat(r).isEqualTo(new UsageFanout.Result(2, 0, 0, 1, 0));
        String expected = "{\"event\":\"threshold\",\"id\":\"21\",\"data\":{\"client_id\":\"acme\",\"period\":\"2026-11\","
                + "\"threshold\":80,\"monthly_quota\":1000,\"used\":801}}";
        assertThat(sent).containsOnlyKeys("a1", "a2");
        assertThat(sent.get("a1")).containsExactly(expected);
        assertThat(sent.get("a2")).containsExactly(expected);
        // the same frame the local WebSocket emulation sends for the same alert
        assertThat(expected).isEqualTo(UsageUpdate.threshold(alert).withEventId("21").thresholdFrame());
        assertThat(closed).containsExactly("root");
        assertThat(rows).containsOnlyKeys("a1", "a2", "g1");
        assertThat(queries).containsExactlyInAnyOrder(LiveConnection.EVERYONE, "acme");
    }

    @Test
    void nothingToPushQueriesNothing() {
        assertThat(fanout.push(List.of())).isEqualTo(new UsageFanout.Result(0, 0, 0));
        assertThat(queries).isEmpty();
    }

    private void connect(String id, String client, Role role) {
        store.put(LiveConnection.of(id, new StreamCredential(new Principal(client, role, Principal.scopesFor(role)),
                NOW.plusSeconds(600)), "127.0.0.1", NOW.minusSeconds(60)));
    }

    private static String frame(String id, String client, long count) {
        return new UsageMessage(client, "2026-11-25", count).frame(id);
    }
}
