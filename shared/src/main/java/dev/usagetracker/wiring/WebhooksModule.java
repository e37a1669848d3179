package dev.usagetracker.wiring;

import dev.usagetracker.config.LambdaEnvironment;
import dev.usagetracker.config.Lazy;
import dev.usagetracker.queue.SqsWebhookQueue;
import dev.usagetracker.store.DynamoWebhookStore;
import dev.usagetracker.webhooks.WebhookDelivery;
import dev.usagetracker.webhooks.WebhookQueue;
import dev.usagetracker.webhooks.WebhookSender;
import dev.usagetracker.webhooks.WebhookService;
import dev.usagetracker.webhooks.WebhookSettings;
import dev.usagetracker.webhooks.WebhookUrlPolicy;

/** Usage alerts over signed webhooks: the client's webhook routes, the queue, and its delivering consumer. */
public final class WebhooksModule {
    private final Clients clients;
    private final IdentityModule identity;
    private final Lazy<WebhookSettings> settings = new Lazy<>(() -> WebhookSettings.from(LambdaEnvironment.get()));

    public WebhooksModule(Clients clients, IdentityModule identity) {
        this.clients = clients;
        this.identity = identity;
    }

    /** The webhook queue (WEBHOOK_QUEUE_URL) and its dead-letter queue (WEBHOOK_DLQ_URL). */
    public WebhookQueue queue() {
        return new SqsWebhookQueue(clients.sqs(), settings.get().queueUrl(), settings.get().deadLetterUrl());
    }

    /** Which receivers a webhook may name (https, a public address; WEBHOOK_ALLOW_PRIVATE for ./scripts/dev). */
    public WebhookUrlPolicy urlPolicy() {
        return new WebhookUrlPolicy(settings.get().allowPrivate(), settings.get().reservedPorts());
    }

    /** PUT/GET/DELETE /api/clients/me/webhook and its test event. */
    public WebhookService service() {
        return new WebhookService(store(), identity.cipher(), urlPolicy(), queue(), clients.clock());
    }

    /** The webhook queue's consumer: signs, checks the receiver's address again, posts, retries. */
    public WebhookDelivery delivery() {
        return new WebhookDelivery(store(), identity.cipher(), urlPolicy(), new WebhookSender(settings.get().timeout()),
                queue(), settings.get().schedule(), clients.clock());
    }

    private DynamoWebhookStore store() {
        return new DynamoWebhookStore(clients.dynamo(), clients.config().clientsTable());
    }
}
