package dev.usagetracker.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.auth.Role;
import dev.usagetracker.clients.Client;
import dev.usagetracker.clients.NewClient;
import dev.usagetracker.store.ClientIndexBackfill;
import dev.usagetracker.store.DynamoClientStore;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * scripts/backfill-client-index against moto_server: client rows from before the by_entity index
 * (no {@code entity}) are listed after one run, nothing else in the table is touched, and a second run
 * has nothing to do.
 */
@ExtendWith(TestStack.Extension.class)
class ClientIndexBackfillIT {

    @Test
    void rowsFromBeforeTheIndexAreListedAfterOneRunAndASecondRunDoesNothing(TestStack stack) {
        String table = stack.config().clientsTable();
        DynamoClientStore clients = new DynamoClientStore(stack.dynamo(), table, Clock.systemUTC());
        String run = UUID.randomUUID().toString().substring(0, 8);
        String current = "backfill-" + run + "-new";
        clients.create(new NewClient(current, "New", Role.CLIENT, List.of(), Instant.now(), "eh-" + current, new byte[] {1},
                "kh-" + current, new byte[] {2}));
        // Three rows as the previous release wrote them: the same row without `entity`.
        Set<String> old = Set.of("backfill-" + run + "-a", "backfill-" + run + "-b", "backfill-" + run + "-c");
        for (String id : old) {
            Map<String, AttributeValue> row = new HashMap<>(stack.dynamo().getItem(g -> g.tableName(table).consistentRead(true)
                    .key(Map.of("client_id", AttributeValue.fromS(current)))).item());
            row.remove("entity");
            row.put("client_id", AttributeValue.fromS(id));
            row.put("name", AttributeValue.fromS("Old " + id));
            stack.dynamo().putItem(p -> p.tableName(table).item(row));
        }
        // and an item of another kind that must stay out of the index
        String plan = "plan#backfill-" + run;
        stack.dynamo().putItem(p -> p.tableName(table).item(Map.of("client_id", AttributeValue.fromS(plan),
                "kind", AttributeValue.fromS("plan-draft"))));

        assertThat(listed(clients)).contains(current).doesNotContainAnyElementsOf(old);

        ClientIndexBackfill.Result first = new ClientIndexBackfill(stack.dynamo(), table).run();
        assertThat(first.indexed()).as("%s", first).isGreaterThanOrEqualTo(3);
        assertThat(listed(clients)).contains(current).containsAll(old);
        assertThat(clients.find("backfill-" + run + "-a")).map(Client::name).contains("Old backfill-" + run + "-a");
        assertThat(stack.dynamo().getItem(g -> g.tableName(table).consistentRead(true)
                .key(Map.of("client_id", AttributeValue.fromS(plan)))).item()).doesNotContainKey("entity");

        ClientIndexBackfill.Result second = new ClientIndexBackfill(stack.dynamo(), table).run();
        assertThat(second.indexed()).as("%s", second).isZero();
        System.out.printf("client index backfill: first run %s, second run %s%n", first, second);
    }

    private static Set<String> listed(DynamoClientStore clients) {
        return clients.list().stream().map(Client::clientId).collect(Collectors.toSet());
    }
}
