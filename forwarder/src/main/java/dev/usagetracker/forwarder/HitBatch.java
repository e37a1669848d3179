package dev.usagetracker.forwarder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One {@code POST /api/logs} request: hits of one log stream, under an Idempotency-Key derived from the log
 * group, the stream and the ids of the log events it carries. CloudWatch Logs redelivers the same events with
 * the same ids and Lambda retries a failed invocation with the same payload, so every attempt of this batch,
 * in any container, sends the same key with the same body: the service counts it once.
 */
public record HitBatch(String idempotencyKey, List<Entry> entries, byte[] body) {

    /** A hit and the id of the log event it came from. */
    public record Entry(String eventId, ForwardedHit hit) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The service takes at most 256 KiB; room for the envelope and for escaping differences. */
    static final int MAX_BODY_BYTES = 250 * 1024;

    public int size() {
        return entries.size();
    }

    /** Packs entries in order, as many as {@code maxHits} and the body limit allow: the same input, the same batches. */
    public static List<HitBatch> pack(String logGroup, String logStream, List<Entry> entries, int maxHits) {
        List<HitBatch> batches = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        int bytes = 16;
        for (Entry entry : entries) {
            int size = hitBytes(entry.hit()) + 1;
            if (!current.isEmpty() && (current.size() == maxHits || bytes + size > MAX_BODY_BYTES)) {
                batches.add(of(logGroup, logStream, current));
                current = new ArrayList<>();
                bytes = 16;
            }
            current.add(entry);
            bytes += size;
        }
        if (!current.isEmpty()) batches.add(of(logGroup, logStream, current));
        return batches;
    }

    public static HitBatch of(String logGroup, String logStream, List<Entry> entries) {
        ObjectNode root = JSON.createObjectNode();
        var hits = root.putArray("hits");
        MessageDigest sha = sha256();
        sha.update((logGroup + '\n' + logStream).getBytes(StandardCharsets.UTF_8));
        for (Entry e : entries) {
            e.hit().writeTo(hits.addObject());
            sha.update((byte) '\n');
            sha.update(e.eventId().getBytes(StandardCharsets.UTF_8));
        }
        try {
            return new HitBatch("cwl-" + HexFormat.of().formatHex(sha.digest()), List.copyOf(entries), JSON.writeValueAsBytes(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The halves of a batch the service found too large (nothing of it was taken): each keyed by its own events. */
    public List<HitBatch> halves(String logGroup, String logStream) {
        int mid = entries.size() / 2;
        return List.of(of(logGroup, logStream, entries.subList(0, mid)), of(logGroup, logStream, entries.subList(mid, entries.size())));
    }

    /** What is left after the service refused the hits at these indexes (nothing of the batch was taken). */
    public HitBatch without(java.util.Set<Integer> refused, String logGroup, String logStream) {
        List<Entry> rest = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (!refused.contains(i)) rest.add(entries.get(i));
        }
        return rest.isEmpty() ? null : of(logGroup, logStream, rest);
    }

    private static int hitBytes(ForwardedHit hit) {
        ObjectNode node = JSON.createObjectNode();
        hit.writeTo(node);
        try {
            return JSON.writeValueAsBytes(node).length;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
