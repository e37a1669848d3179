package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DisplayNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"x\ud800y", "evil\u202etxt.exe", "zero\u200bwidth", "join\u200dme", "bom\ufeff", "nul\u0000",
            "<script>alert(1)</script>", "a>b", "\u0301start", "Z\u0301\u0302\u0303\u0304\u0305\u0306algo", " ", ""})
    void refuses(String name) {
        assertThat(DisplayName.check(name).ok()).as(name).isFalse();
    }

    @Test
    void normalisesToNfcAndTrims() {
        DisplayName.Result r = DisplayName.check("  Cafe\u0301 Ltd ");
        assertThat(r.ok()).isTrue();
        assertThat(r.name()).isEqualTo("Caf\u00e9 Ltd");
        assertThat(DisplayName.check("Acme & Söhne 東京 😀").name()).isEqualTo("Acme & Söhne 東京 😀");
        assertThat(DisplayName.check("x".repeat(201)).ok()).isFalse();
        assertThat(DisplayName.check("😀".repeat(200)).ok()).isTrue();
    }
}
