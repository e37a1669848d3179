package dev.usagetracker.wiring;

import dev.usagetracker.clients.ClientErasureService;
import dev.usagetracker.config.LambdaEnvironment;
import dev.usagetracker.erasure.ClientEraser;
import dev.usagetracker.erasure.ErasureSettings;
import dev.usagetracker.erasure.RedisClientErasure;
import dev.usagetracker.erasure.RedisErasure;
import dev.usagetracker.queue.SqsErasureQueue;
import dev.usagetracker.store.DynamoErasureStore;

/** Erasure of a client: the DELETE routes that mark it and queue the work, and the function that does it. */
public record ErasureModule(Clients clients, IdentityModule identity) {

    /** DELETE /api/clients/me|{client_id}: marks the client erasing and queues its erasure. */
    public ClientErasureService service() {
        var settings = ErasureSettings.from(LambdaEnvironment.get());
        return new ClientErasureService(identity.clientStore(), new SqsErasureQueue(clients.sqs(), settings.queueUrl()),
                identity.credentialChanges(), clients.clock(), settings.delaySeconds());
    }

    /** The erasure function's work: every item and Redis key of one client. */
    public ClientEraser eraser() {
        var config = clients.config();
        var store = new DynamoErasureStore(clients.dynamo(), config.clientsTable(), config.hitsTable(), config.usageTable(),
                config.stream().connectionsTable(), clients.retention(), clients.clock());
        RedisErasure redisErasure = clients.redis().<RedisErasure>map(RedisClientErasure::new).orElse(RedisErasure.NONE);
        return new ClientEraser(identity.clientStore(), store, redisErasure);
    }
}
