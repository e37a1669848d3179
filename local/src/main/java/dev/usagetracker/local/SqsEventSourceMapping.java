package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Lambda's SQS event source mapping: pollers gather up to BatchSize messages or wait out the batching
 * window, invoke the function, delete what succeeded and leave the rest to come back after the
 * visibility timeout; the queue's redrive policy moves a message to the DLQ after maxReceiveCount.
 * A function error (an exception) fails the whole batch, as on AWS.
 */
public final class SqsEventSourceMapping implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SqsEventSourceMapping.class);

    private final SqsClient sqs;
    private final String queueUrl;
    private final String queueArn;
    private final FunctionPool function;
    private final int batchSize;
    private final Duration window;
    private final boolean reportsItemFailures;
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Pollers of an older generation were killed: they finish what they are doing and acknowledge nothing. */
    private final java.util.concurrent.atomic.AtomicInteger generation = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Thread> pollers = new ArrayList<>();
    private final AtomicLong invocations = new AtomicLong();
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong lastPoll = new AtomicLong();

    public SqsEventSourceMapping(SqsClient sqs, String queueUrl, String queueArn, FunctionPool function,
                                 int batchSize, Duration window, boolean reportsItemFailures) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.queueArn = queueArn;
        this.function = function;
        this.batchSize = batchSize;
        this.window = window;
        this.reportsItemFailures = reportsItemFailures;
    }

    public synchronized SqsEventSourceMapping start(int pollerCount) {
        running.set(true);
        pollers.clear();
        int current = generation.get();
        for (int i = 0; i < pollerCount; i++) {
            Thread t = Thread.ofPlatform().daemon().name("esm-" + function.function().logicalId() + "-" + i)
                    .start(() -> poll(current));
            pollers.add(t);
        }
        return this;
    }

    /**
     * A crash of the consumer: from this moment its pollers acknowledge nothing: whatever they hold
     * (received, or inside the function's DynamoDB transaction, which DynamoDB commits whole or not
     * at all) comes back after the visibility timeout. They are not interrupted: threads of one JVM
     * share the JDK's HTTP keep-alive connections, which an interrupt can leave half-read, something
     * a real crash (a separate process) cannot do to anyone else. {@link #start} brings up new pollers.
     */
    public synchronized void kill() {
        generation.incrementAndGet();
        running.set(false);
        pollers.clear();
        LOG.info("event source mapping of {} killed", function.function().logicalId());
    }

    public boolean isRunning() {
        return running.get() && pollers.stream().anyMatch(Thread::isAlive);
    }

    /** When a poll last reached the queue (receive succeeded, even if empty); 0 before the first. */
    public long lastSuccessfulPollMillis() {
        return lastPoll.get();
    }

    public String functionName() {
        return function.function().logicalId();
    }

    /** The template's name of the queue this mapping polls (its function's SQS event). */
    public String queueLogicalId() {
        return function.function().queueEvent().map(SamTemplate.QueueEvent::queueLogicalId).orElse(queueUrl);
    }

    public long invocations() {
        return invocations.get();
    }

    public long deletedMessages() {
        return deleted.get();
    }

    private void poll(int myGeneration) {
        while (running.get() && generation.get() == myGeneration) {
            try {
                List<Message> batch = gather(myGeneration);
                if (batch.isEmpty() || generation.get() != myGeneration) continue;
                if (running.get()) deliver(batch, myGeneration);
                else release(batch);
            } catch (RuntimeException e) {
                if (!running.get()) return;
                LOG.warn("polling {} failed ({}); retrying in 1 s", queueUrl, e.getClass().getSimpleName());
                ManagedProcess.sleep(1_000);
            }
        }
    }

    private List<Message> gather(int myGeneration) {
        List<Message> batch = new ArrayList<>();
        long deadline = System.nanoTime() + window.toNanos();
        while (running.get() && generation.get() == myGeneration && batch.size() < batchSize) {
            long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
            if (!batch.isEmpty() && remainingMs <= 0) break;
            // Long-poll while nothing is waiting; once something is, wait no longer than the window.
            int waitSeconds = batch.isEmpty() ? 1 : (int) Math.min(1, Math.max(0, remainingMs / 1000));
            int max = Math.min(10, batchSize - batch.size());
            List<Message> got = sqs.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(max)
                    .waitTimeSeconds(waitSeconds)
                    .messageSystemAttributeNames(MessageSystemAttributeName.ALL)
                    .messageAttributeNames("All")).messages();
            lastPoll.set(System.currentTimeMillis());
            batch.addAll(got);
            if (got.isEmpty() && batch.isEmpty()) deadline = System.nanoTime() + window.toNanos();
            if (got.isEmpty() && window.isZero()) break;
        }
        return batch;
    }

    private void deliver(List<Message> batch, int myGeneration) {
        SQSEvent event = new SQSEvent();
        List<SQSEvent.SQSMessage> records = new ArrayList<>();
        for (Message m : batch) {
            SQSEvent.SQSMessage r = new SQSEvent.SQSMessage();
            r.setMessageId(m.messageId());
            r.setReceiptHandle(m.receiptHandle());
            r.setBody(m.body());
            r.setMd5OfBody(m.md5OfBody());
            Map<String, String> attrs = new HashMap<>();
            m.attributes().forEach((k, v) -> attrs.put(k.toString(), v));
            r.setAttributes(attrs);
            Map<String, SQSEvent.MessageAttribute> messageAttributes = new HashMap<>();
            m.messageAttributes().forEach((k, v) -> {
                SQSEvent.MessageAttribute a = new SQSEvent.MessageAttribute();
                a.setDataType(v.dataType());
                a.setStringValue(v.stringValue());
                messageAttributes.put(k, a);
            });
            r.setMessageAttributes(messageAttributes);
            r.setEventSource("aws:sqs");
            r.setEventSourceArn(queueArn);
            r.setAwsRegion(Emulators.REGION);
            records.add(r);
        }
        event.setRecords(records);
        invocations.incrementAndGet();
        Set<String> failed = new HashSet<>();
        try {
            Object result = function.invoke(event);
            if (reportsItemFailures && result instanceof SQSBatchResponse response && response.getBatchItemFailures() != null) {
                response.getBatchItemFailures().forEach(f -> failed.add(f.getItemIdentifier()));
            }
        } catch (Exception e) {
            LOG.warn("{} failed on a batch of {}; the whole batch returns after the visibility timeout",
                    function.function().logicalId(), batch.size(), e);
            return;
        }
        if (generation.get() != myGeneration) return; // killed mid-invocation: a dead poller acknowledges nothing
        List<DeleteMessageBatchRequestEntry> done = new ArrayList<>();
        for (Message m : batch) {
            if (!failed.contains(m.messageId())) {
                done.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(done.size()))
                        .receiptHandle(m.receiptHandle()).build());
            }
        }
        for (int i = 0; i < done.size(); i += 10) {
            List<DeleteMessageBatchRequestEntry> chunk = done.subList(i, Math.min(done.size(), i + 10));
            sqs.deleteMessageBatch(r -> r.queueUrl(queueUrl).entries(chunk));
            deleted.addAndGet(chunk.size());
        }
    }

    /**
     * Stopping, with a batch gathered but not yet given to the function: hand it back to the queue at
     * once (visibility 0) rather than run it during shutdown, so the next runtime on the same state gets it
     * straight away. Where that fails it comes back after the visibility timeout, as after a crash.
     */
    private void release(List<Message> batch) {
        try {
            for (int i = 0; i < batch.size(); i += 10) {
                List<Message> chunk = batch.subList(i, Math.min(batch.size(), i + 10));
                List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>();
                for (Message m : chunk) {
                    entries.add(ChangeMessageVisibilityBatchRequestEntry.builder().id(Integer.toString(entries.size()))
                            .receiptHandle(m.receiptHandle()).visibilityTimeout(0).build());
                }
                sqs.changeMessageVisibilityBatch(r -> r.queueUrl(queueUrl).entries(entries));
            }
            LOG.info("stopping: {} received messages handed back to {}", batch.size(), queueUrl);
        } catch (RuntimeException e) {
            LOG.info("stopping: {} received messages return after the visibility timeout ({})", batch.size(), e.getClass().getSimpleName());
        }
    }

    /**
     * Asks the pollers to stop without waiting for them: the runtime asks every mapping first, so their
     * last long polls (up to 1 s each) end together rather than one mapping after another.
     */
    void stopPolling() {
        running.set(false);
    }

    @Override
    public void close() {
        stopPolling();
        join();
    }

    private void join() {
        for (Thread t : pollers) {
            try {
                t.join(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
