package dev.usagetracker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Json;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class IngestServiceTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00.123456Z");
    private static final Instant RECEIVED = Instant.parse("2026-01-31T12:00:00.123Z");
    private static final Principal ACME = new Principal("acme", Role.CLIENT, Principal.scopesFor(Role.CLIENT));
    /** SQS's own limit per message; a part must fit whatever envelope the queue adds. */
    private static final int SQS_MAX_MESSAGE_BYTES = 256 * 1024;

    private final FakeQueue queue = new FakeQueue();
    private final FakeLedger ledger = new FakeLedger();
    private final IngestService service = new IngestService(queue, ledger, Clock.fixed(NOW, ZoneOffset.UTC));

    // --- accept ---------------------------------------------------------------------------------

    @Test
    void acceptsHitsOnceTheQueueHasThemAndLeavesTheLedgerAlone() {
        List<Hit> hits = hits(3, "/a");

        IngestService.Accepted accepted = service.accept(ACME, hits);

        assertThat(accepted.accepted()).isEqualTo(3);
        assertThat(queue.sent).singleElement().satisfies(part -> {
            assertThat(part.clientId()).isEqualTo("acme");
            assertThat(part.receivedAt()).isEqualTo(RECEIVED);
            assertThat(part.hits()).extracting(HitBatch.PackedHit::ep).containsExactly("/a0", "/a1", "/a2");
        });
        assertThat(ledger.calls).isZero();
    }

    @Test
    void writesStraightToTheLedgerWhenTheQueueIsDown() {
        queue.failure = new IllegalStateException("SQS unavailable");

        IngestService.Accepted accepted = service.accept(ACME, hits(2, "/a"));

        assertThat(accepted.accepted()).isEqualTo(2);
        assertThat(ledger.calls).isEqualTo(1);
        assertThat(ledger.recorded).singleElement().satisfies(part -> {
            assertThat(part.clientId()).isEqualTo("acme");
            assertThat(part.hits()).hasSize(2);
        });
    }

    @Test
    void countsPartsTheLedgerAlreadyHadAsAccepted() {
        queue.failure = new IllegalStateException("SQS unavailable");
        ledger.allDuplicates = true;

        assertThat(service.accept(ACME, hits(2, "/a")).accepted()).isEqualTo(2);
    }

    @Test
    void answers503WithRetryAfterWhenQueueAndLedgerAreBothDown() {
        queue.failure = new IllegalStateException("SQS unavailable");
        ledger.failure = new IllegalStateException("DynamoDB unavailable");

        ApiException e = apiError(() -> service.accept(ACME, hits(2, "/a")));

        assertThat(e.status()).isEqualTo(503);
        assertThat(e.headers()).containsEntry("Retry-After", "5");
    }

    @Test
    void answers503WhenTheLedgerCouldNotWriteAPart() {
        queue.failure = new IllegalStateException("SQS unavailable");
        ledger.failAll = true;

        ApiException e = apiError(() -> service.accept(ACME, hits(2, "/a")));

        assertThat(e.status()).isEqualTo(503);
        assertThat(e.headers()).containsKey("Retry-After");
    }

    @Test
    void forbidsACredentialWithoutTheWriteScope() {
        Principal readOnly = new Principal("acme", Role.CLIENT, Set.of(Principal.SCOPE_USAGE_READ));

        ApiException e = apiError(() -> service.accept(readOnly, hits(1, "/a")));

        assertThat(e.status()).isEqualTo(403);
        assertThat(queue.calls).isZero();
        assertThat(ledger.calls).isZero();
    }

    // --- pack -----------------------------------------------------------------------------------

    @Test
    void packsASmallRequestIntoOnePart() {
        List<HitBatch> parts = IngestService.pack("acme", hits(3, "/a"), RECEIVED);

        assertThat(parts).singleElement().satisfies(part -> {
            assertThat(part.v()).isEqualTo(1);
            assertThat(part.part()).isZero();
            assertThat(part.offset()).isZero();
            assertThat(part.clientId()).isEqualTo("acme");
            assertThat(part.receivedAt()).isEqualTo(RECEIVED);
            assertThat(part.hits().getFirst()).isEqualTo(
                    new HitBatch.PackedHit(Instant.parse("2026-01-31T11:00:00Z").toEpochMilli(), "203.0.113.7", "/a0"));
        });
    }

    @Test
    void splitsALargeRequestIntoConsecutivePartsOfOneBatch() {
        String longPath = "/" + "p".repeat(HitValidator.MAX_ENDPOINT_LENGTH - 10);
        List<Hit> hits = hits(HitValidator.MAX_BATCH, longPath);

        List<HitBatch> parts = IngestService.pack("acme", hits, RECEIVED);

        assertThat(parts).hasSizeGreaterThan(1);
        assertThat(parts).extracting(HitBatch::batchId).containsOnly(parts.getFirst().batchId());
        assertThat(parts).extracting(HitBatch::part).containsExactlyElementsOf(IntStream.range(0, parts.size()).boxed().toList());
        int expectedOffset = 0;
        for (HitBatch part : parts) {
            assertThat(part.offset()).isEqualTo(expectedOffset);
            assertThat(part.hits()).isNotEmpty();
            assertThat(Json.write(part).length).isLessThanOrEqualTo(SQS_MAX_MESSAGE_BYTES);
            expectedOffset += part.hits().size();
        }
        assertThat(expectedOffset).isEqualTo(hits.size());
    }

    @Test
    void keepsEveryHitInOrderWithAUniqueEventIdWhenSplitting() {
        String longPath = "/" + "p".repeat(HitValidator.MAX_ENDPOINT_LENGTH - 10);
        List<Hit> hits = hits(HitValidator.MAX_BATCH, longPath);

        List<HitBatch> parts = IngestService.pack("acme", hits, RECEIVED);

        List<String> endpoints = new ArrayList<>();
        Set<String> eventIds = new HashSet<>();
        for (HitBatch part : parts) {
            for (int i = 0; i < part.hits().size(); i++) {
                endpoints.add(part.hits().get(i).ep());
                eventIds.add(part.eventId(i));
            }
        }
        assertThat(endpoints).containsExactlyElementsOf(hits.stream().map(Hit::endpoint).toList());
        assertThat(eventIds).hasSize(hits.size()).contains(parts.getFirst().batchId() + ".0",
                parts.getFirst().batchId() + "." + (hits.size() - 1));
    }

    @Test
    void givesEveryRequestItsOwnBatchId() {
        String first = IngestService.pack("acme", hits(1, "/a"), RECEIVED).getFirst().batchId();
        String second = IngestService.pack("acme", hits(1, "/a"), RECEIVED).getFirst().batchId();

        assertThat(first).isNotEqualTo(second);
    }

    // --- helpers and fakes ----------------------------------------------------------------------

    /** {@code n} hits an hour ago, endpoints {@code prefix0 … prefix(n-1)}. */
    private static List<Hit> hits(int n, String prefix) {
        Instant anHourAgo = Instant.parse("2026-01-31T11:00:00Z");
        return IntStream.range(0, n).mapToObj(i -> new Hit(anHourAgo, "203.0.113.7", prefix + i)).toList();
    }

    private static ApiException apiError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }

    static final class FakeQueue implements HitQueue {
        final List<HitBatch> sent = new ArrayList<>();
        RuntimeException failure;
        int calls;

        @Override
        public void send(List<HitBatch> parts) {
            calls++;
            if (failure != null) throw failure;
            sent.addAll(parts);
        }
    }

    static final class FakeLedger implements HitLedger {
        final List<HitBatch> recorded = new ArrayList<>();
        final List<HitBatch> offered = new ArrayList<>();
        RuntimeException failure;
        boolean failAll;
        boolean allDuplicates;
        int calls;

        @Override
        public Outcome record(List<HitBatch> parts) {
            calls++;
            offered.addAll(parts);
            if (failure != null) throw failure;
            Set<String> keys = new HashSet<>();
            parts.forEach(p -> keys.add(p.key()));
            if (failAll) return new Outcome(Set.of(), Set.of(), keys);
            recorded.addAll(parts);
            return allDuplicates ? new Outcome(Set.of(), keys, Set.of()) : new Outcome(keys, Set.of(), Set.of());
        }
    }

    @Test
    void requestSpanningManyHoursIsSplitSoEachPartFitsOneTransaction() {
        List<Hit> spread = new ArrayList<>();
        for (int h = 0; h < 150; h++) spread.add(new Hit(RECEIVED.minusSeconds(3600L * h), "203.0.113.7", "/a"));
        List<HitBatch> parts = IngestService.pack("acme", spread, RECEIVED);
        assertThat(parts).hasSizeGreaterThan(1);
        int offset = 0;
        for (HitBatch part : parts) {
            Set<String> aggregates = new HashSet<>();
            part.hits().forEach(h -> {
                aggregates.add("d" + dev.usagetracker.store.UsageKeys.day(h.timestamp()));
                aggregates.add("h" + dev.usagetracker.store.UsageKeys.hour(h.timestamp()));
            });
            assertThat(1 + aggregates.size()).as("items of part %d's transaction", part.part()).isLessThanOrEqualTo(100);
            assertThat(part.offset()).isEqualTo(offset);
            offset += part.hits().size();
        }
        assertThat(offset).isEqualTo(150);
    }
}
