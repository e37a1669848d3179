package dev.usagetracker.analytics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

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
    void oneRouteInEveryFrameworksSyntaxIsOneTemplate() {
        for (String route : new String[] {"/api/users/:id/orders", "/api/users/{id}/orders", "/api/users/{id:[0-9]+}/orders",
                "/api/users/<id>/orders", "/api/users/<int:id>/orders", "/api/users/:id(\\d+)/orders",
                "/api/users/123/orders?page=2"}) {
            assertThat(EndpointTemplate.of(route)).as(route).isEqualTo("/api/users/{id}/orders");
        }
        assertThat(EndpointTemplate.of("/api/orgs/:orgId/members/<uuid:member_id>"))
                .isEqualTo("/api/orgs/{orgId}/members/{member_id}");
        assertThat(EndpointTemplate.of("/files/{*path}")).isEqualTo("/files/{path}");
        assertThat(EndpointTemplate.of("/api/users/:id?")).isEqualTo("/api/users/{id}"); // Express optional
        assertThat(EndpointTemplate.of("/codes/{code:[A-Z]{3}}")).isEqualTo("/codes/{code}");
    }

    @Test
    void segmentsThatOnlyLookLikeParametersStay() {
        assertThat(EndpointTemplate.of("/a:b")).isEqualTo("/a:b");
        assertThat(EndpointTemplate.of("/time/12:30")).isEqualTo("/time/12:30");
        assertThat(EndpointTemplate.of("/x/:")).isEqualTo("/x/:");
        assertThat(EndpointTemplate.of("/x/{}")).isEqualTo("/x/{}");
        assertThat(EndpointTemplate.of("/x/<a b>")).isEqualTo("/x/<a b>");
        assertThat(EndpointTemplate.of("/x/{id}.json")).isEqualTo("/x/{id}.json");
    }

    @Test
    void tallyNamesTheFirstThousandTemplatesAndCountsTheRestAsOther() {
        EndpointTally tally = new EndpointTally();
        for (int i = 0; i < 1_100; i++) {
            tally.add("/t/" + i, null, null);
            tally.add("/t/" + i, 200, 1.0);
        }
        tally.add("/t/5", 503, null);
        assertThat(tally.named()).hasSize(1_000);
        assertThat(tally.named().get("/t/5").count()).isEqualTo(3);
        assertThat(tally.named().get("/t/5").statuses())
                .containsExactly(entry("2xx", 1L), entry("3xx", 0L), entry("4xx", 0L), entry("5xx", 1L), entry("unknown", 1L));
        assertThat(tally.other()).isEqualTo(200);
        assertThat(tally.total()).isEqualTo(2_201);
    }
}
