package dev.usagetracker.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTest {

    @Test
    void bothFieldsAreStructuredFieldListsOfTheCurrentDraft() {
        Map<String, String> h = RateLimitHeaders.of(
                List.of(new RateLimitHeaders.Policy("ingest-1m", 500, 60), new RateLimitHeaders.Policy("ingest-1h", 1000, 3600)),
                List.of(new RateLimitHeaders.State("ingest-1m", 499, 60), new RateLimitHeaders.State("ingest-1h", 999, 3600)));
        assertThat(h).containsEntry("RateLimit-Policy", "\"ingest-1m\";q=500;w=60,\"ingest-1h\";q=1000;w=3600")
                .containsEntry("RateLimit", "\"ingest-1m\";r=499;t=60,\"ingest-1h\";r=999;t=3600");
    }

    @Test
    void unknownStateSendsThePolicyOnly() {
        assertThat(RateLimitHeaders.of(List.of(new RateLimitHeaders.Policy("read-1m", 60, 60)), List.of()))
                .containsOnlyKeys("RateLimit-Policy");
        assertThat(RateLimitHeaders.of(List.of(), List.of())).isEmpty();
    }

    @Test
    void secondsRoundUpSoNobodyComesBackEarly() {
        assertThat(RateLimitHeaders.seconds(0)).isZero();
        assertThat(RateLimitHeaders.seconds(1)).isEqualTo(1);
        assertThat(RateLimitHeaders.seconds(1000)).isEqualTo(1);
        assertThat(RateLimitHeaders.seconds(1001)).isEqualTo(2);
    }
}
