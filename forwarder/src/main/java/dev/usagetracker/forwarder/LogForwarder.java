package dev.usagetracker.forwarder;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One subscription payload → hits → batches → the service, before the invocation returns. Lines that do not
 * parse are counted and reported (event id and reason only) and never fail the payload; a batch that cannot be
 * delivered in time fails the whole invocation after the others are done, so Lambda retries the payload and the
 * batches that did land are answered as replays.
 */
public final class LogForwarder {
    private final AccessLogParser parser;
    private final IngestClient client;
    private final int maxBatchHits;
    private final int concurrency;
    private final Consumer<String> log;

    public LogForwarder(AccessLogParser parser, IngestClient client, int maxBatchHits, int concurrency, Consumer<String> log) {
        this.parser = parser;
        this.client = client;
        this.maxBatchHits = maxBatchHits;
        this.concurrency = concurrency;
        this.log = log;
    }

    public ForwardResult forward(SubscriptionPayload payload, Instant deadline) throws InterruptedException {
        if (payload.isControlMessage()) return new ForwardResult(0, 0, 0, 0, 0, 0);
        List<HitBatch.Entry> entries = new ArrayList<>();
        int unparsed = 0;
        for (SubscriptionPayload.LogEvent event : payload.logEvents()) {
            AccessLogParser.Result result = parser.parse(event.message(), event.timestamp());
            if (result.hit() != null) {
                entries.add(new HitBatch.Entry(event.id(), result.hit()));
            } else {
                unparsed++;
                log.accept("{\"level\":\"WARN\",\"message\":\"access-log line skipped\",\"event_id\":\"" + event.id()
                        + "\",\"reason\":\"" + result.refusal() + "\"}");
            }
        }
        Tally tally = new Tally();
        List<HitBatch> batches = HitBatch.pack(payload.logGroup(), payload.logStream(), entries, maxBatchHits);
        Semaphore slots = new Semaphore(concurrency);
        List<Future<?>> sends = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (HitBatch batch : batches) {
                slots.acquire();
                sends.add(pool.submit(() -> {
                    try {
                        deliver(batch, payload, deadline, tally);
                        return null;
                    } finally {
                        slots.release();
                    }
                }));
            }
        }
        RuntimeException failure = null;
        for (Future<?> send : sends) {
            try {
                send.get();
            } catch (java.util.concurrent.ExecutionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                if (failure == null) failure = cause; else failure.addSuppressed(cause);
            }
        }
        if (failure != null) throw failure;
        return new ForwardResult(payload.logEvents().size(), tally.accepted.get(), tally.rejected.get(),
                tally.uncertain.get(), unparsed, tally.requests.get());
    }

    private void deliver(HitBatch batch, SubscriptionPayload payload, Instant deadline, Tally tally) throws InterruptedException {
        tally.requests.incrementAndGet();
        switch (client.send(batch, deadline)) {
            case IngestClient.Outcome.Accepted a -> tally.accepted.addAndGet(batch.size());
            case IngestClient.Outcome.Refused r -> {
                tally.rejected.addAndGet(r.indexes().size());
                log.accept("{\"level\":\"WARN\",\"message\":\"hits refused by the service\",\"count\":" + r.indexes().size()
                        + ",\"detail\":" + quote(r.detail()) + "}");
                HitBatch rest = batch.without(r.indexes(), payload.logGroup(), payload.logStream());
                if (rest != null) deliver(rest, payload, deadline, tally);
            }
            case IngestClient.Outcome.TooLarge t -> {
                if (batch.size() == 1) {
                    tally.rejected.incrementAndGet();
                    log.accept("{\"level\":\"WARN\",\"message\":\"hit refused by the service\",\"detail\":" + quote(t.detail()) + "}");
                } else {
                    // Nothing of it was taken: halves, each under a key of its own events (the same halves on a retry).
                    for (HitBatch half : batch.halves(payload.logGroup(), payload.logStream())) deliver(half, payload, deadline, tally);
                }
            }
            case IngestClient.Outcome.Uncertain u -> {
                tally.uncertain.addAndGet(batch.size());
                log.accept("{\"level\":\"ERROR\",\"message\":\"batch not re-sent: it may have been taken already\",\"count\":"
                        + batch.size() + ",\"detail\":" + quote(u.detail()) + "}");
            }
        }
    }

    private static String quote(String s) {
        return new com.fasterxml.jackson.databind.node.TextNode(s == null ? "" : s).toString();
    }

    private static final class Tally {
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger rejected = new AtomicInteger();
        final AtomicInteger uncertain = new AtomicInteger();
        final AtomicInteger requests = new AtomicInteger();
    }
}
