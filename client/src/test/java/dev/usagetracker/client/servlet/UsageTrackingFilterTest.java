package dev.usagetracker.client.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UsageTrackingFilterTest {
    @Test
    void pathParametersSuchAsASessionIdAreNeverMetered() {
        assertThat(UsageTrackingFilter.withoutPathParameters("/orders;jsessionid=0A1B2C3D")).isEqualTo("/orders");
        assertThat(UsageTrackingFilter.withoutPathParameters("/a;v=1/b;jsessionid=X/c")).isEqualTo("/a/b/c");
        assertThat(UsageTrackingFilter.withoutPathParameters("/orders/42")).isEqualTo("/orders/42");
        assertThat(UsageTrackingFilter.withoutPathParameters(";jsessionid=X")).isEqualTo("/");
    }
}
