package dev.usagetracker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.threeten.extra.MutableClock;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

/** The Idempotency-Key rules of IngestService, with an in-memory store standing in for DynamoDB. */
class IdempotentIngestTest {
    private static final Instant FIRST = Instant.parse("2026-01-31T12:00:00.123Z");
    private static final Principal ACME = new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT));

    private final IngestServiceTest.FakeQueue queue = new IngestServiceTest.FakeQueue();
    private final IngestServiceTest.FakeLedger ledger = new IngestServiceTest.FakeLedger();
    private final MemoryStore store = new MemoryStore();
    private final MutableClock clock = MutableClock.of(FIRST, ZoneOffset.UTC);
    private final IngestService service = new IngestService(queue, ledger, store, clock);

    @Test
    void replayOfACompletedRequestAnswersTheSameWithoutSendingAgain() {
        IdempotencyKey key = new IdempotencyKey("k-1", "hash-a");
        assertThat(service.accept(ACME, hits(3), Optional.of(key)).accepted()).isEqualTo(3);
        clock.setInstant(FIRST.plusSeconds(3600));

        assertThat(service.accept(ACME, hits(3), Optional.of(key)).accepted()).isEqualTo(3);

        assertThat(queue.calls).as("the replay sends nothing").isEqualTo(1);
    }

    @Test
    void retryAfterAFailedAttemptReusesTheFirstBatchIdAndReceiveTime() {
        IdempotencyKey key = new IdempotencyKey("k-2", "hash-a");
        queue.failure = new IllegalStateException("SQS unavailable");
        ledger.failAll = true;
        assertThat(catchThrowable(() -> service.accept(ACME, hits(2), Optional.of(key))))
                .isInstanceOf(ApiException.class).extracting(e -> ((ApiException) e).status()).isEqualTo(503);
        queue.failure = null;
        clock.setInstant(FIRST.plusSeconds(90));

        service.accept(ACME, hits(2), Optional.of(key));

        HitBatch resent = queue.sent.getFirst();
        HitBatch firstAttempt = ledger.offered.getFirst();
        assertThat(resent.batchId()).isEqualTo(firstAttempt.batchId());
        assertThat(resent.receivedAt()).as("same raw-hit item key, so the ledger counts it once").isEqualTo(FIRST);
    }

    @Test
    void sameKeyWithAnotherBodyIs422() {
        service.accept(ACME, hits(1), Optional.of(new IdempotencyKey("k-3", "hash-a")));

        Throwable e = catchThrowable(() -> service.accept(ACME, hits(5), Optional.of(new IdempotencyKey("k-3", "hash-b"))));

        assertThat(e).isInstanceOf(ApiException.class);
        assertThat(((ApiException) e).status()).isEqualTo(422);
        assertThat(queue.calls).isEqualTo(1);
    }

    @Test
    void keysOfDifferentClientsDoNotMeet() {
        Principal other = new Principal("other", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
        service.accept(ACME, hits(1), Optional.of(new IdempotencyKey("shared", "hash-a")));

        assertThat(service.accept(other, hits(4), Optional.of(new IdempotencyKey("shared", "hash-b"))).accepted()).isEqualTo(4);

        assertThat(queue.sent).extracting(HitBatch::batchId).doesNotHaveDuplicates();
    }

    @Test
    void anUnavailableStoreRefusesAKeyedRequestWith503() {
        store.failure = SdkClientException.create("connection refused");

        Throwable e = catchThrowable(() -> service.accept(ACME, hits(1), Optional.of(new IdempotencyKey("k-4", "h"))));

        assertThat(e).isInstanceOf(ApiException.class);
        assertThat(((ApiException) e).status()).isEqualTo(503);
        assertThat(((ApiException) e).headers()).containsKey("Retry-After");
        assertThat(queue.calls).as("nothing is sent that could not be deduplicated").isZero();
    }

    @Test
    void aRequestWithoutAKeyNeverTouchesTheStore() {
        store.failure = SdkClientException.create("connection refused");

        assertThat(service.accept(ACME, hits(2), Optional.empty()).accepted()).isEqualTo(2);
    }

    @Test
    void theBatchIdOfAKeyedRequestIsStableAndDiffersByClientAndKey() {
        assertThat(Ids.batchIdFor("acme", "k")).isEqualTo(Ids.batchIdFor("acme", "k")).hasSize(16)
                .isNotEqualTo(Ids.batchIdFor("acme", "k2")).isNotEqualTo(Ids.batchIdFor("acmf", "k"));
    }

    // --- the header -----------------------------------------------------------------------------

    @Test
    void fingerprintIgnoresWhitespaceKeyOrderAndTheApiKey() {
        String a = IdempotencyKey.from(request("{\"hits\":[{\"ip\":\"1.2.3.4\",\"endpoint\":\"/a\"}]}", "k")).orElseThrow().requestHash();
        String b = IdempotencyKey.from(request("{ \"api_key\": \"ut_x\", \"hits\": [ {\"endpoint\":\"/a\", \"ip\":\"1.2.3.4\"} ] }", "k"))
                .orElseThrow().requestHash();
        String c = IdempotencyKey.from(request("{\"hits\":[{\"ip\":\"1.2.3.4\",\"endpoint\":\"/b\"}]}", "k")).orElseThrow().requestHash();

        assertThat(a).isEqualTo(b).isNotEqualTo(c);
    }

    @Test
    void noHeaderMeansNoKeyAndAMalformedOneIs400() {
        assertThat(IdempotencyKey.from(request("{}", null))).isEmpty();
        for (String bad : List.of("", "a b", "é", "x".repeat(256))) {
            Throwable e = catchThrowable(() -> IdempotencyKey.from(request("{}", bad)));
            assertThat(e).as("key %s", bad).isInstanceOf(ApiException.class);
            assertThat(((ApiException) e).status()).isEqualTo(400);
        }
    }

    // --- fakes ----------------------------------------------------------------------------------

    private static List<Hit> hits(int n) {
        return IntStream.range(0, n).mapToObj(i -> new Hit(FIRST.minusSeconds(60), "203.0.113.7", "/p" + i)).toList();
    }

    private static HttpRequest request(String body, String key) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.put("Content-Type", "application/json");
        if (key != null) headers.put("Idempotency-Key", key);
        return new HttpRequest("POST", "/api/logs", headers, Map.of(), body.getBytes(StandardCharsets.UTF_8), "192.0.2.1", "r1", Map.of());
    }

    static final class MemoryStore implements IdempotencyStore {
        final Map<String, Entry> entries = new HashMap<>();
        RuntimeException failure;

        @Override
        public Entry claim(String clientId, String key, Entry proposed, Instant now) {
            if (failure != null) throw failure;
            return entries.computeIfAbsent(clientId + "#" + key, k -> proposed);
        }

        @Override
        public void complete(String clientId, String key, Entry entry, int accepted) {
            entries.put(clientId + "#" + key, new Entry(entry.requestHash(), entry.batchId(), entry.receivedAt(),
                    OptionalInt.of(accepted)));
        }
    }
}
