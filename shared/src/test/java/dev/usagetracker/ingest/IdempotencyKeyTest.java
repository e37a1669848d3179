package dev.usagetracker.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.HttpRequest;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdempotencyKeyTest {
    private static final String BODY = "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\"}";

    @ParameterizedTest
    @ValueSource(strings = {"key\u0001", "\u0001key", "ke\u0000y", "key\u007f", "key\r", "\u001fkey", "k\u00e9y", " ", "a b"})
    void aControlOrNonAsciiCharacterAnywhereIsRefusedNotTrimmed(String raw) {
        Throwable thrown = catchThrowable(() -> IdempotencyKey.from(request(raw)));
        assertThat(thrown).as(raw).isInstanceOf(ApiException.class);
        assertThat(((ApiException) thrown).status()).isEqualTo(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"retry-1", " retry-1", "retry-1\t"})
    void optionalWhitespaceAroundTheValueIsAllowed(String raw) {
        assertThat(IdempotencyKey.from(request(raw)).orElseThrow().value()).isEqualTo("retry-1");
    }

    private static HttpRequest request(String key) {
        return HttpRequest.from(dev.usagetracker.http.HttpRequestTest.event(
                Map.of("Content-Type", "application/json", "Idempotency-Key", key), "POST", BODY, false));
    }
}
