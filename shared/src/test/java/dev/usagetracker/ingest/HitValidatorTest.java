package dev.usagetracker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HitValidatorTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00Z");
    private static final Duration RETENTION = Duration.ofDays(30);

    private final HitValidator validator = new HitValidator(Clock.fixed(NOW, ZoneOffset.UTC), RETENTION);

    // --- ip -------------------------------------------------------------------------------------

    @Test
    void acceptsIpv4AsWritten() {
        assertThat(validOne(hit("203.0.113.7", "/a", null)).ip()).isEqualTo("203.0.113.7");
    }

    @Test
    void canonicalisesEverySpellingOfAnIpv6AddressToOneForm() {
        String compressed = validOne(hit("2001:DB8::1", "/a", null)).ip();
        String expanded = validOne(hit("2001:db8:0:0:0:0:0:1", "/a", null)).ip();

        assertThat(compressed).isEqualTo(expanded).isEqualTo("2001:db8:0:0:0:0:0:1");
    }

    @Test
    void storesAnIpv4MappedIpv6AddressAsIpv4() {
        assertThat(validOne(hit("::ffff:203.0.113.7", "/a", null)).ip()).isEqualTo("203.0.113.7");
    }

    @ParameterizedTest
    @ValueSource(strings = {"999.1.1.1", "1.2.3", "01.2.3.4", "example.com", "localhost", "::g", "fe80::1%eth0",
            "1.2.3.4:80", "[::1]", ""})
    void rejectsAnythingButAnIpLiteralInABatch(String ip) {
        assertThat(fields(rejected(List.of(hit(ip, "/a", null)), "hits"))).containsExactly("hits[0].ip");
    }

    @Test
    void namesTheBareFieldForASingleHit() {
        assertThat(fields(rejected(List.of(hit("999.1.1.1", "/a", null)), ""))).containsExactly("ip");
    }

    @Test
    void requiresIpAndEndpoint() {
        ApiException e = rejected(List.of(hit(null, null, null)), "hits");

        assertThat(e.errors()).containsExactly(
                new FieldError("hits[0].ip", "is required"),
                new FieldError("hits[0].endpoint", "is required"));
    }

    // --- endpoint -------------------------------------------------------------------------------

    @Test
    void acceptsPathsUpTo2048Characters() {
        String longest = "/" + "a".repeat(HitValidator.MAX_ENDPOINT_LENGTH - 1);

        assertThat(validOne(hit("10.0.0.1", "/", null)).endpoint()).isEqualTo("/");
        assertThat(validOne(hit("10.0.0.1", "/api/items?page=2&q=%20x", null)).endpoint())
                .isEqualTo("/api/items?page=2&q=%20x");
        assertThat(validOne(hit("10.0.0.1", longest, null)).endpoint()).hasSize(2048);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "api/items", "https://example.com/a", "/with space", "/tab\there", "/new\nline",
            "/nul\u0000", "/del\u007f", "/zero\u200Bwidth", "/line\u2028sep"})
    void rejectsEndpointsThatAreNotCleanPaths(String endpoint) {
        assertThat(fields(rejected(List.of(hit("10.0.0.1", endpoint, null)), "hits")))
                .containsExactly("hits[0].endpoint");
    }

    @Test
    void rejectsEndpointLongerThan2048Characters() {
        String tooLong = "/" + "a".repeat(HitValidator.MAX_ENDPOINT_LENGTH);

        assertThat(fields(rejected(List.of(hit("10.0.0.1", tooLong, null)), "hits")))
                .containsExactly("hits[0].endpoint");
    }

    // --- timestamp ------------------------------------------------------------------------------

    @Test
    void defaultsAMissingTimestampToNow() {
        assertThat(validOne(hit("10.0.0.1", "/a", null)).timestamp()).isEqualTo(NOW);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-01-31T12:00:00Z", "2026-01-31T13:00:00+01:00", "2026-01-31T07:30:00-04:30",
            "2026-01-31T12:00:00.000+00:00"})
    void acceptsAnyOffsetForm(String timestamp) {
        assertThat(validOne(hit("10.0.0.1", "/a", timestamp)).timestamp()).isEqualTo(NOW);
    }

    @Test
    void truncatesTimestampsToMilliseconds() {
        assertThat(validOne(hit("10.0.0.1", "/a", "2026-01-31T11:00:00.123456789Z")).timestamp())
                .isEqualTo(Instant.parse("2026-01-31T11:00:00.123Z"));
    }

    @Test
    void acceptsTimestampExactlyFiveMinutesAhead() {
        assertThat(validOne(hit("10.0.0.1", "/a", "2026-01-31T12:05:00Z")).timestamp())
                .isEqualTo(NOW.plus(Duration.ofMinutes(5)));
    }

    @Test
    void rejectsTimestampMoreThanFiveMinutesAhead() {
        ApiException e = rejected(List.of(hit("10.0.0.1", "/a", "2026-01-31T12:05:00.001Z")), "hits");

        assertThat(e.errors()).containsExactly(
                new FieldError("hits[0].timestamp", "must not be more than 5 minutes in the future"));
    }

    @Test
    void acceptsTimestampAtTheStartOfTheRetentionWindow() {
        assertThat(validOne(hit("10.0.0.1", "/a", "2026-01-01T12:00:00Z")).timestamp())
                .isEqualTo(NOW.minus(RETENTION));
    }

    @Test
    void rejectsTimestampOlderThanRetention() {
        assertThat(fields(rejected(List.of(hit("10.0.0.1", "/a", "2026-01-01T11:59:59.999Z")), "hits")))
                .containsExactly("hits[0].timestamp");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-01-31T12:00:00", "2026-01-31", "31/01/2026 12:00", "1769860800", "yesterday", "",
            "2026-01-31 12:00:00Z"})
    void rejectsTimestampsThatAreNotIsoWithOffset(String timestamp) {
        assertThat(fields(rejected(List.of(hit("10.0.0.1", "/a", timestamp)), "hits")))
                .containsExactly("hits[0].timestamp");
    }

    // --- batch ----------------------------------------------------------------------------------

    @Test
    void rejectsEmptyBatch() {
        assertThat(fields(rejected(List.of(), "hits"))).containsExactly("hits");
        assertThat(fields(rejected(null, "hits"))).containsExactly("hits");
    }

    @Test
    void rejectsBatchOf501() {
        assertThat(fields(rejected(Collections.nCopies(501, hit("10.0.0.1", "/a", null)), "hits")))
                .containsExactly("hits");
    }

    @Test
    void accepts500HitsInOrder() {
        List<HitFields> input = new ArrayList<>();
        for (int i = 0; i < HitValidator.MAX_BATCH; i++) input.add(hit("10.0.0.1", "/item/" + i, null));

        List<Hit> hits = validator.validate(input, "hits");

        assertThat(hits).hasSize(500);
        assertThat(hits.get(0).endpoint()).isEqualTo("/item/0");
        assertThat(hits.get(499).endpoint()).isEqualTo("/item/499");
    }

    @Test
    void reportsEveryBrokenFieldOfEveryHitAtOnce() {
        List<HitFields> input = Arrays.asList(
                hit("10.0.0.1", "/ok", null),
                hit("1.2.3", "no-slash", null),
                null,
                hit("10.0.0.1", "/ok", "2030-01-01T00:00:00Z"),
                hit("::1", "/ok", "not a date"));

        ApiException e = rejected(input, "hits");

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.type()).isEqualTo("validation-error");
        assertThat(fields(e)).containsExactly(
                "hits[1].ip", "hits[1].endpoint", "hits[2]", "hits[3].timestamp", "hits[4].timestamp");
        assertThat(e.getMessage()).contains("5 invalid field(s)");
    }

    // --- helpers --------------------------------------------------------------------------------

    private static HitFields hit(String ip, String endpoint, String timestamp) {
        return new HitFields(ip, endpoint, timestamp);
    }

    private Hit validOne(HitFields fields) {
        List<Hit> hits = validator.validate(List.of(fields), "");
        assertThat(hits).hasSize(1);
        return hits.getFirst();
    }

    private ApiException rejected(List<HitFields> input, String prefix) {
        return apiError(() -> validator.validate(input, prefix));
    }

    private static List<String> fields(ApiException e) {
        return e.errors().stream().map(FieldError::field).toList();
    }

    static ApiException apiError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }
}
