package dev.usagetracker.local;

import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import dev.usagetracker.store.ClientIndexBackfill;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * scripts/backfill-client-index: puts client rows from before the {@code by_entity} index into it and
 * prints what it did. The table and endpoint come from the environment (CLIENTS_TABLE,
 * AWS_ENDPOINT_URL_DYNAMODB, AWS credentials), which the script fills from .local/runtime.env for a
 * running ./scripts/dev.
 */
public final class BackfillClientIndex {
    private BackfillClientIndex() {}

    public static void main(String[] args) {
        Map<String, String> env = new HashMap<>(System.getenv());
        Config config = Config.from(env);
        try (DynamoDbClient dynamo = AwsClients.dynamo(config)) {
            System.out.println("backfilling the by_entity index of " + config.clientsTable());
            ClientIndexBackfill.Result r = new ClientIndexBackfill(dynamo, config.clientsTable()).run();
            System.out.println("scanned " + r.scanned() + " row(s): " + r.indexed() + " client row(s) put into the index, "
                    + r.skipped() + " changed meanwhile and left alone");
        }
    }
}
