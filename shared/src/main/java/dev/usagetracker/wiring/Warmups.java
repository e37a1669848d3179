package dev.usagetracker.wiring;

import dev.usagetracker.config.Priming;
import dev.usagetracker.http.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.ConditionCheck;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.kms.model.GenerateMacRequest;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/** The {@link Warmup} calls a function asks for, run before the SnapStart snapshot or at init, as PRIMING says. */
public final class Warmups {
    /** A key no client, guard or aggregate can have ('!' is outside every id alphabet). */
    static final String PRIMING_KEY = "priming!";

    private final Priming priming;
    private final Clients clients;
    private final Supplier<IdentityModule> identity;

    /** {@code identity}: built only for the public-key warm-up. */
    public Warmups(Priming priming, Clients clients, Supplier<IdentityModule> identity) {
        this.priming = priming;
        this.clients = clients;
        this.identity = identity;
    }

    public void prime(Warmup... warmups) {
        if (priming.mode() == Priming.Mode.OFF) return;
        List<Priming.Step> steps = new ArrayList<>();
        for (Warmup w : warmups) steps.add(new Priming.Step(w.name().toLowerCase(Locale.ROOT), call(w)));
        priming.prime(steps);
    }

    // Anonymous classes, for the same reason as the client suppliers in Clients: a function jar without the
    // SQS or DynamoDB module must be able to link this class.
    private Runnable call(Warmup w) {
        var config = clients.config();
        return switch (w) {
            case KEY_HASH -> new Runnable() {
                @Override
                public void run() {
                    clients.kms().generateMac(GenerateMacRequest.builder().keyId(config.macKeyId())
                            .macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)
                            .message(SdkBytes.fromUtf8String(PRIMING_KEY)).build());
                }
            };
            case PUBLIC_KEY -> new Runnable() {
                @Override
                public void run() {
                    identity.get().signingKeys().publicKeys();
                }
            };
            case CLIENT_READ -> new Runnable() {
                @Override
                public void run() {
                    clients.dynamo().getItem(GetItemRequest.builder().tableName(config.clientsTable())
                            .key(Map.of("client_id", AttributeValue.fromS(PRIMING_KEY))).consistentRead(true).build());
                }
            };
            case CLIENT_BATCH_READ -> new Runnable() {
                @Override
                public void run() {
                    clients.dynamo().batchGetItem(BatchGetItemRequest.builder().requestItems(Map.of(config.clientsTable(),
                            KeysAndAttributes.builder().keys(Map.of("client_id", AttributeValue.fromS(PRIMING_KEY))).build())).build());
                }
            };
            case CLIENT_WRITE_CHECK -> new Runnable() {
                @Override
                public void run() {
                    clients.dynamo().transactWriteItems(TransactWriteItemsRequest.builder().transactItems(TransactWriteItem.builder()
                            .conditionCheck(ConditionCheck.builder().tableName(config.clientsTable())
                                    .key(Map.of("client_id", AttributeValue.fromS(PRIMING_KEY)))
                                    .conditionExpression("attribute_not_exists(client_id)").build()).build()).build());
                }
            };
            case QUEUE -> new Runnable() {
                @Override
                public void run() {
                    clients.sqs().getQueueAttributes(GetQueueAttributesRequest.builder().queueUrl(config.hitsQueueUrl())
                            .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES).build());
                }
            };
            case LEDGER -> new Runnable() {
                @Override
                public void run() {
                    try {
                        clients.dynamo().transactWriteItems(TransactWriteItemsRequest.builder().transactItems(TransactWriteItem.builder()
                                .update(Update.builder().tableName(config.usageTable())
                                        .key(Map.of("pk", AttributeValue.fromS(PRIMING_KEY)))
                                        .updateExpression("SET primed = :t")
                                        .conditionExpression("attribute_exists(pk)")
                                        .expressionAttributeValues(Map.of(":t", AttributeValue.fromBool(true))).build()).build()).build());
                    } catch (TransactionCanceledException expected) {
                        // the condition never holds: nothing was written, the cancellation path is warm too
                    }
                }
            };
            case JSON -> new Runnable() {
                @Override
                public void run() {
                    Json.read(Json.write(Map.of("priming", List.of(1, "two"))), Map.class);
                }
            };
        };
    }
}
