package dev.usagetracker.ingest;

import java.util.List;

/** Where accepted hits wait for the consumer (SQS). A send either makes every part durable or throws. */
public interface HitQueue {
    void send(List<HitBatch> parts);
}
