package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usagetracker.auth.CredentialChanges;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ClientErasureServiceTest {
    static final Instant NOW = Instant.parse("2026-11-26T08:00:00Z");
    final InMemoryClientStore store = new InMemoryClientStore();
    final List<String> queued = new ArrayList<>();
    final List<String> announced = new ArrayList<>();
    final Principal acme = new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
    final Principal admin = new Principal(AdminBootstrap.ADMIN_CLIENT_ID, Role.ADMIN, Principal.scopesFor(Role.ADMIN));
    ClientErasureService service;

    @BeforeEach
    void setUp() {
        store.add(new Client("acme", "Acme", Role.CLIENT, List.of(), NOW));
        store.add(new Client("globex", "Globex", Role.CLIENT, List.of(), NOW));
        store.add(new Client(AdminBootstrap.ADMIN_CLIENT_ID, "Admin", Role.ADMIN, List.of(), NOW));
        CredentialChanges changes = new CredentialChanges() {
            @Override
            public void changed(String clientId) {
                announced.add(clientId);
            }

            @Override
            public String observe(String clientId) {
                return null;
            }
        };
        service = new ClientErasureService(store, (id, delay) -> queued.add(id + "@" + delay), changes,
                Clock.fixed(NOW, ZoneOffset.UTC), 60);
    }

    @Test
    void erasingMarksTheRowAnnouncesTheRevocationAndQueuesTheWorkDelayed() {
        var answer = service.eraseOwn(acme);
        assertThat(answer).isEqualTo(new ClientErasureService.Erasure("acme", "erasing"));
        Credentials row = store.find("acme").orElseThrow().credentials();
        assertThat(row.erasing()).isTrue();
        assertThat(row.tokensValidAfter()).isGreaterThan(NOW.getEpochSecond());
        assertThat(announced).containsExactly("acme");
        assertThat(queued).containsExactly("acme@60");
    }

    @Test
    void erasingAgainAnswersTheSameAndQueuesAgain() {
        service.eraseOther(admin, "globex");
        assertThat(service.eraseOther(admin, "globex").status()).isEqualTo("erasing");
        assertThat(queued).containsExactly("globex@60", "globex@60");
    }

    @Test
    void theBootstrapAdminCannotBeErasedAndNothingIsQueued() {
        assertThatThrownBy(() -> service.eraseOwn(admin)).isInstanceOf(ApiException.class)
                .extracting(e -> ((ApiException) e).status()).isEqualTo(409);
        assertThatThrownBy(() -> service.eraseOther(admin, AdminBootstrap.ADMIN_CLIENT_ID))
                .extracting(e -> ((ApiException) e).status()).isEqualTo(409);
        assertThat(store.find(AdminBootstrap.ADMIN_CLIENT_ID).orElseThrow().credentials().erasing()).isFalse();
        assertThat(queued).isEmpty();
    }

    @Test
    void unknownClientsAre404BadIds400AndClientsCannotEraseOthers() {
        assertThatThrownBy(() -> service.eraseOther(admin, "nobody")).extracting(e -> ((ApiException) e).status()).isEqualTo(404);
        assertThatThrownBy(() -> service.eraseOther(admin, "X")).extracting(e -> ((ApiException) e).status()).isEqualTo(400);
        assertThatThrownBy(() -> service.eraseOther(acme, "globex")).extracting(e -> ((ApiException) e).status()).isEqualTo(403);
        assertThat(store.find("globex").orElseThrow().credentials().erasing()).isFalse();
        assertThat(queued).isEmpty();
        assertThat(announced).isEmpty();
    }
}
