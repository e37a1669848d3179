package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.auth.CredentialChanges;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionsOnCredentialChangeTest {
    private final List<String> calls = new ArrayList<>();
    private final CredentialChanges signal = new CredentialChanges() {
        @Override
        public void changed(String clientId) {
            calls.add("signal " + clientId);
        }

        @Override
        public String observe(String clientId) {
            return "v-" + clientId;
        }
    };

    @Test
    void theRowsGoAfterTheSignal() {
        var changes = new ConnectionsOnCredentialChange(signal, id -> {
            calls.add("rows " + id);
            return List.of("c1");
        });
        changes.changed("acme");
        assertThat(calls).containsExactly("signal acme", "rows acme");
        assertThat(changes.observe("acme")).isEqualTo("v-acme");
    }

    @Test
    void anUnreachableConnectionsTableNeverFailsTheChange() {
        var changes = new ConnectionsOnCredentialChange(signal, id -> {
            throw new IllegalStateException("table unreachable");
        });
        changes.changed("acme");
        assertThat(calls).containsExactly("signal acme");
    }
}
