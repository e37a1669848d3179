package dev.usagetracker.ingest;

import static dev.usagetracker.ingest.HitValidatorTest.apiError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** method, status and duration_ms as the JSON body carries them, through the strict mapper and the validator. */
class HitOutcomeTest {
    private static final Instant NOW = Instant.parse("2026-01-31T12:00:00Z");
    private final HitValidator validator = new HitValidator(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofDays(30));

    @Test
    void carriesTheThreeFieldsWithTheMethodUpperCased() {
        Hit hit = one("\"method\":\"get\",\"status\":404,\"duration_ms\":12.5");

        assertThat(hit.method()).isEqualTo("GET");
        assertThat(hit.status()).isEqualTo(404);
        assertThat(hit.durationMs()).isEqualTo(12.5);
    }

    @Test
    void absentOrNullMeansUnknown() {
        Hit absent = one("");
        Hit nulls = one("\"method\":null,\"status\":null,\"duration_ms\":null");

        for (Hit hit : List.of(absent, nulls)) {
            assertThat(hit.method()).isNull();
            assertThat(hit.status()).isNull();
            assertThat(hit.durationMs()).isNull();
        }
    }

    @Test
    void acceptsTheBoundsAndAnyTokenMethod() {
        assertThat(one("\"status\":100").status()).isEqualTo(100);
        assertThat(one("\"status\":599").status()).isEqualTo(599);
        assertThat(one("\"status\":200.0").status()).isEqualTo(200);
        assertThat(one("\"duration_ms\":0").durationMs()).isEqualTo(0.0);
        assertThat(one("\"duration_ms\":3600000").durationMs()).isEqualTo(3_600_000.0);
        assertThat(one("\"method\":\"PROPFIND\"").method()).isEqualTo("PROPFIND");
        assertThat(one("\"method\":\"M-SEARCH\"").method()).isEqualTo("M-SEARCH");
        assertThat(one("\"method\":\"ABCDEFGHIJKLMNOP\"").method()).hasSize(16);
    }

    @Test
    void keepsTheDurationToTheMicrosecond() {
        assertThat(one("\"duration_ms\":1.23456789").durationMs()).isEqualTo(1.235);
    }

    @ParameterizedTest
    @ValueSource(strings = {"99", "600", "\"200\"", "200.5", "-200", "true", "1e400", "99999999999999999999999", "{}"})
    void rejectsAStatusThatIsNotAnIntegerFrom100To599(String status) {
        assertThat(fields(batchRejected("\"status\":" + status))).containsExactly("hits[1].status");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"G ET\"", "\"GET \"", "\"ABCDEFGHIJKLMNOPQ\"", "\"\"", "\"GÉT\"", "\"GET/1\"", "42", "[\"GET\"]"})
    void rejectsAMethodThatIsNotAShortHttpToken(String method) {
        assertThat(fields(batchRejected("\"method\":" + method))).containsExactly("hits[1].method");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-0.001", "3600000.5", "1e400", "-1e400", "\"NaN\"", "\"12\"", "false"})
    void rejectsADurationOutside0To3600000Ms(String duration) {
        assertThat(fields(batchRejected("\"duration_ms\":" + duration))).containsExactly("hits[1].duration_ms");
    }

    @Test
    void namesEveryBrokenFieldOfEveryHitInOne400() {
        ApiException e = apiError(() -> validate("{\"hits\":["
                + "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\",\"status\":600,\"method\":\"G ET\"},"
                + "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\",\"status\":200},"
                + "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\",\"duration_ms\":-5},"
                + "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\",\"status\":\"200\"}]}"));

        assertThat(e.status()).isEqualTo(400);
        assertThat(fields(e)).containsExactly("hits[0].method", "hits[0].status", "hits[2].duration_ms", "hits[3].status");
    }

    @Test
    void aSingleHitNamesTheBareField() {
        ApiException e = apiError(() -> validate("{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\",\"status\":99}"));

        assertThat(fields(e)).containsExactly("status");
    }

    @Test
    void thePackedHitCarriesTheFieldsAndOmitsUnknownOnes() {
        Hit known = one("\"method\":\"post\",\"status\":503,\"duration_ms\":7");
        Hit unknown = one("");

        String packed = new String(Json.write(HitBatch.PackedHit.of(known)), StandardCharsets.UTF_8);
        assertThat(packed).contains("\"m\":\"POST\"", "\"s\":503", "\"d\":7.0");
        assertThat(Json.read(packed.getBytes(StandardCharsets.UTF_8), HitBatch.PackedHit.class))
                .isEqualTo(HitBatch.PackedHit.of(known));
        assertThat(new String(Json.write(HitBatch.PackedHit.of(unknown)), StandardCharsets.UTF_8))
                .doesNotContain("\"m\"", "\"s\"", "\"d\"");
    }

    private Hit one(String extra) {
        String body = "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\"" + (extra.isEmpty() ? "" : "," + extra) + "}";
        List<Hit> hits = validate(body);
        assertThat(hits).hasSize(1);
        return hits.getFirst();
    }

    /** A batch whose second hit carries {@code extra}: the error must name hits[1]. */
    private ApiException batchRejected(String extra) {
        return apiError(() -> validate("{\"hits\":[{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\"},"
                + "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\"," + extra + "}]}"));
    }

    private List<Hit> validate(String body) {
        var node = Json.readTree(body.getBytes(StandardCharsets.UTF_8));
        if (node.has("hits")) return validator.validate(Json.bind(node, BatchHitRequest.class).hits(), "hits");
        return validator.validate(List.of(Json.bind(node, SingleHitRequest.class).hit()), "");
    }

    private static List<String> fields(ApiException e) {
        return e.errors().stream().map(FieldError::field).toList();
    }
}
