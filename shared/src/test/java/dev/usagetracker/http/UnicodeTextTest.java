package dev.usagetracker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UnicodeTextTest {

    @Test
    void refusesEveryFormatAndControlCharacter() {
        int format = 0, control = 0;
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            int type = Character.getType(cp);
            if (type != Character.FORMAT && type != Character.CONTROL) continue;
            String s = "a" + Character.toString(cp) + "b";
            assertThat(UnicodeText.violation(s)).as("U+%04X", cp).isPresent();
            if (type == Character.FORMAT) format++;
            else control++;
        }
        assertThat(format).isGreaterThan(150);
        assertThat(control).isEqualTo(65);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x\ud800y", "x\udc00", "\ud800", "a\u202eb", "a\u200bb", "\ufeffa", "a\u2028b", "a\ufffdb", "a\ufdd0", "a\uffff"})
    void refusesUnpairedSurrogatesInvisiblesSeparatorsAndNoncharacters(String s) {
        assertThat(UnicodeText.violation(s)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Acme Shop", "Café", "Cafe\u0301", "東京", "Ωmega 😀", "العربية", "x-y_z.1"})
    void acceptsOrdinaryTextInAnyScript(String s) {
        assertThat(UnicodeText.violation(s)).isEmpty();
    }

    @Test
    void nfcComposes() {
        assertThat(UnicodeText.nfc("Cafe\u0301")).isEqualTo("Caf\u00e9");
    }

    @Test
    void bodiesMustBeStrictUtf8() {
        byte[][] bad = {
                {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0x80, '"', '}'},            // overlong NUL
                {'{', '"', 'a', '"', ':', '"', (byte) 0xE0, (byte) 0x80, (byte) 0xAF, '"', '}'}, // overlong '/'
                {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}, // encoded surrogate
                {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'},
                {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, '"', '}'}};                        // truncated
        for (byte[] body : bad) {
            assertThat(UnicodeText.isUtf8(body)).isFalse();
            // as text (replaced by whoever decoded it) or as base64: either way a 400, never replaced
            for (boolean base64 : new boolean[] {true, false}) {
                String raw = base64 ? Base64.getEncoder().encodeToString(body) : new String(body, StandardCharsets.UTF_8);
                HttpRequest request = HttpRequest.from(dev.usagetracker.http.HttpRequestTest.event(
                        Map.of("Content-Type", "application/json"), "POST", raw, base64));
                Throwable thrown = catchThrowable(request::jsonBody);
                assertThat(thrown).isInstanceOf(ApiException.class);
                assertThat(((ApiException) thrown).status()).isEqualTo(400);
            }
        }
    }

    @Test
    void aCharsetOtherThanUtf8Is415() {
        for (String type : new String[] {"application/json; charset=iso-8859-1", "application/json;charset=\"UTF-16\"",
                "application/json; charset=latin1"}) {
            HttpRequest request = HttpRequest.from(dev.usagetracker.http.HttpRequestTest.event(
                    Map.of("Content-Type", type), "POST", "{\"a\":\"b\"}", false));
            Throwable thrown = catchThrowable(request::jsonBody);
            assertThat(((ApiException) thrown).status()).as(type).isEqualTo(415);
        }
        for (String type : new String[] {"application/json; charset=utf-8", "application/json;charset=\"UTF-8\"", "application/json"}) {
            HttpRequest request = HttpRequest.from(dev.usagetracker.http.HttpRequestTest.event(
                    Map.of("Content-Type", type), "POST", "{\"a\":\"b\"}", false));
            assertThat(request.jsonBody().node().get("a").asText()).isEqualTo("b");
        }
    }

    @Test
    void everyStringOfABodyIsCheckedWithItsPath() {
        HttpRequest request = HttpRequest.from(dev.usagetracker.http.HttpRequestTest.event(
                Map.of("Content-Type", "application/json"), "POST",
                "{\"hits\":[{\"ip\":\"1.2.3.4\",\"endpoint\":\"/a\\u202e\"},{\"ip\":\"\\ud800\"}],\"x\\u0000\":1}", false));
        Throwable thrown = catchThrowable(request::jsonBody);
        ApiException e = (ApiException) thrown;
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.errors()).extracting(ApiException.FieldError::field).containsExactly("hits[0].endpoint", "hits[1].ip", "$");
    }
}
