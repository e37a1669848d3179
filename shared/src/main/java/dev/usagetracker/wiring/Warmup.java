package dev.usagetracker.wiring;

/**
 * Warm-up calls, each cheap, allowed by the calling function's IAM policy and without side effects:
 * they load a client's request path and open its connection before the first request needs it.
 */
public enum Warmup {
    /** kms:GenerateMac of a constant: the API-key and email hashing path. */
    KEY_HASH,
    /** kms:GetPublicKey, cached afterwards: JWT verification and JWKS. */
    PUBLIC_KEY,
    /** dynamodb:GetItem of an id no client can have. */
    CLIENT_READ,
    /** dynamodb:BatchGetItem of an id no client can have (functions without GetItem). */
    CLIENT_BATCH_READ,
    /** A transaction holding one ConditionCheck that passes: writes nothing (register's path). */
    CLIENT_WRITE_CHECK,
    /** sqs:GetQueueAttributes of the hits queue: the SendMessage path. */
    QUEUE,
    /** A transaction whose one update is conditional on an item that never exists: cancelled, writes nothing. */
    LEDGER,
    /** The JSON mapper: its first use builds most of Jackson. */
    JSON
}
