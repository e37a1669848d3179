package dev.usagetracker.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EndpointTemplateTest {
    @Test
    void numbersUuidsAndIdLikeSegmentsBecomeIdAndQueryAndFragmentAreDropped() {
        assertThat(EndpointTemplate.of("/api/users/123/orders?x=1")).isEqualTo("/api/users/{id}/orders");
        assertThat(EndpointTemplate.of("/api/items/3f2b8c1e-9d4a-4b7e-8f00-1a2b3c4d5e6f")).isEqualTo("/api/items/{id}");
        assertThat(EndpointTemplate.of("/docs/64b7f0c2a1e4d93b8c7a6f51")).isEqualTo("/docs/{id}");
        assertThat(EndpointTemplate.of("/t/Zx9_kQ2-pLmN4vB8rT")).isEqualTo("/t/{id}");
        assertThat(EndpointTemplate.of("/static/app.js#main")).isEqualTo("/static/app.js");
        assertThat(EndpointTemplate.of("/")).isEqualTo("/");
        assertThat(EndpointTemplate.of("/?q=1")).isEqualTo("/");
        assertThat(EndpointTemplate.of("/a//b/")).isEqualTo("/a//b/");
    }

    @Test
    void wordsAndShortTokensStayAsTheyAre() {
        assertThat(EndpointTemplate.of("/api/v2/products")).isEqualTo("/api/v2/products");
        assertThat(EndpointTemplate.of("/internationalization-settings")).isEqualTo("/internationalization-settings");
        assertThat(EndpointTemplate.of("/abc123")).isEqualTo("/abc123");
        assertThat(EndpointTemplate.of("/deadbeefdeadbeef")).isEqualTo("/deadbeefdeadbeef"); // hex, but no digit
    }

    @Test
    void tallyNamesTheFirstThousandTemplatesAndCountsTheRestAsOther() {
        EndpointTally tally = new EndpointTally();
        for (int i = 0; i < 1_100; i++) tally.add("/t/" + i, 2);
        tally.add("/t/5", 1);
        assertThat(tally.named()).hasSize(1_000);
        assertThat(tally.named().get("/t/5")).isEqualTo(3);
        assertThat(tally.other()).isEqualTo(200);
        assertThat(tally.total()).isEqualTo(2_201);
    }
}
