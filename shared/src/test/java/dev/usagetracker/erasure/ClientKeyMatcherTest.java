package dev.usagetracker.erasure;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClientKeyMatcherTest {
    final ClientKeyMatcher acme = new ClientKeyMatcher("acme");

    @Test
    void aKeyNamesTheClientWhenItsIdIsAWholeToken() {
        assertThat(acme.names("count:acme:2026-11-26")).isTrue();
        assertThat(acme.names("rl:{acme}:60")).isTrue();
        assertThat(acme.names("cred:acme")).isTrue();
        assertThat(acme.names("usage:v3:daily:acme:7")).isTrue();
        assertThat(acme.names("endpoints:acme:2026-11-26")).isTrue();
        assertThat(acme.names("acme")).isTrue();
    }

    @Test
    void anotherClientWhoseIdContainsItIsLeftAlone() {
        assertThat(acme.names("count:acme-eu:2026-11-26")).isFalse();
        assertThat(acme.names("count:my_acme:2026-11-26")).isFalse();
        assertThat(acme.names("rl:{acme2}:60")).isFalse();
        assertThat(acme.names("top:2026-11-26T08")).isFalse();
    }

    @Test
    void theScanPatternEscapesGlobCharacters() {
        assertThat(acme.scanPattern("ut:prod:")).isEqualTo("ut:prod:*acme*");
        assertThat(new ClientKeyMatcher("a_b").scanPattern("ut:[x]:")).isEqualTo("ut:\\[x\\]:*a_b*");
    }
}
