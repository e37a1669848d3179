package dev.usagetracker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.http.ApiException.FieldError;
import dev.usagetracker.ingest.BatchHitRequest;
import dev.usagetracker.ingest.SingleHitRequest;
import java.nio.charset.StandardCharsets;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {
    private static final String SECRET = "ut_SECRETSECRETSECRET";

    @Test
    void bindsAKnownBodyWithSnakeCaseNames() {
        SingleHitRequest hit = bind("{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\",\"api_key\":\"k\"}", SingleHitRequest.class);

        assertThat(hit).isEqualTo(new SingleHitRequest("10.0.0.1", "/a", null, null, null, null, "k"));
    }

    @Test
    void rejectsUnknownFieldNamingIt() {
        ApiException e = apiError(() -> bind("{\"ip\":\"10.0.0.1\",\"colour\":\"red\"}", SingleHitRequest.class));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.type()).isEqualTo("validation-error");
        assertThat(e.errors()).containsExactly(new FieldError("colour", "unknown field"));
    }

    @Test
    void namesTheFullPathOfAnUnknownFieldInsideABatch() {
        ApiException e = apiError(() -> bind(
                "{\"hits\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\",\"extra\":1}]}", BatchHitRequest.class));

        assertThat(e.errors()).containsExactly(new FieldError("hits[1].extra", "unknown field"));
    }

    @Test
    void rejectsDuplicateKeys() {
        ApiException e = apiError(() -> Json.readTree(utf8("{\"ip\":\"10.0.0.1\",\"ip\":\"10.0.0.2\"}")));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.getMessage()).contains("duplicate key");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\":1} x", "{\"a\":1}{}", "{\"a\":1}]", "{\"a\":1} {\"b\":2}"})
    void rejectsTrailingGarbage(String body) {
        ApiException e = apiError(() -> Json.readTree(utf8(body)));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.type()).isEqualTo("bad-request");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{\"ip\":\"10.0.0.1\"}]", "\"text\"", "42", "true", "null", "   "})
    void rejectsBodiesThatAreNotAnObject(String body) {
        ApiException e = apiError(() -> Json.readTree(utf8(body)));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.getMessage()).isEqualTo("The request body must be a JSON object.");
    }

    @Test
    void rejectsEmptyBody() {
        assertThat(apiError(() -> Json.readTree(new byte[0])).status()).isEqualTo(400);
    }

    @Test
    void reportsAnObjectWhereAStringIsExpectedAsAFieldError() {
        ApiException e = apiError(() -> bind("{\"ip\":{\"v\":4},\"endpoint\":\"/a\"}", SingleHitRequest.class));

        assertThat(e.errors()).containsExactly(new FieldError("ip", "has the wrong type"));
    }

    @Test
    void reportsAStringWhereAListIsExpectedAsAFieldError() {
        ApiException e = apiError(() -> bind("{\"hits\":\"10.0.0.1\"}", BatchHitRequest.class));

        assertThat(e.errors()).containsExactly(new FieldError("hits", "has the wrong type"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"123", "1.5", "true"})
    void reportsANumberOrBooleanWhereAStringIsExpectedAsAFieldError(String scalar) {
        ApiException e = apiError(() -> bind("{\"ip\":" + scalar + ",\"endpoint\":\"/a\"}", SingleHitRequest.class));

        assertThat(e.errors()).containsExactly(new FieldError("ip", "has the wrong type"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"api_key\": \"" + SECRET + "\" ,,}",
            "{\"api_key\": " + SECRET + "}",
            "{\"api_key\": \"" + SECRET,
            "{\"api_key\": \"" + SECRET + "\", \"api_key\": \"" + SECRET + "\"}",
            "{\"api_key\": \"" + SECRET + "\"} trailing",
            "{\"" + SECRET + "\" 1}"})
    void neverEchoesTheBodyOfMalformedJson(String body) {
        ApiException e = apiError(() -> Json.readTree(utf8(body)));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.getMessage()).doesNotContain("SECRET").doesNotContain("ut_");
        assertThat(e.getCause()).as("a cause would carry the parser's message to the logs").isNull();
    }

    @Test
    void neverEchoesTheValueOfAWronglyTypedField() {
        ApiException e = apiError(() -> bind("{\"api_key\":[\"" + SECRET + "\"]}", SingleHitRequest.class));

        assertThat(e.getMessage()).doesNotContain("SECRET");
        assertThat(e.errors()).containsExactly(new FieldError("api_key", "has the wrong type"));
        assertThat(e.errors().toString()).doesNotContain("SECRET");
    }

    private static <T> T bind(String body, Class<T> type) {
        JsonNode node = Json.readTree(utf8(body));
        return Json.bind(node, type);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ApiException apiError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }
}
