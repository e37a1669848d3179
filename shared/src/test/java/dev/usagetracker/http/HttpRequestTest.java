package dev.usagetracker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.RequestContext;
import dev.usagetracker.http.ApiException.FieldError;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

public class HttpRequestTest {
    private static final String JSON_BODY = "{\"ip\":\"10.0.0.1\",\"endpoint\":\"/a\"}";

    @Test
    void readsMethodPathSourceIpAndRequestIdFromTheRequestContext() {
        HttpRequest request = HttpRequest.from(event(Map.of(), "post", null, false));

        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/api/logs");
        assertThat(request.sourceIp()).isEqualTo("198.51.100.4");
        assertThat(request.requestId()).isEqualTo("req-123");
    }

    @Test
    void takesTheSourceIpFromTheContextNeverFromForwardingHeaders() {
        HttpRequest request = HttpRequest.from(event(Map.of("X-Forwarded-For", "10.9.9.9"), "GET", null, false));

        assertThat(request.sourceIp()).isEqualTo("198.51.100.4");
    }

    @Test
    void defaultsWhenTheEventHasNoContextHeadersOrBody() {
        HttpRequest request = HttpRequest.from(APIGatewayV2HTTPEvent.builder().withRawPath("/x").build());

        assertThat(request.method()).isEqualTo("GET");
        assertThat(request.requestId()).isEmpty();
        assertThat(request.headers()).isEmpty();
        assertThat(request.body()).isEmpty();
    }

    @Test
    void looksHeadersUpCaseInsensitively() {
        HttpRequest request = HttpRequest.from(event(
                Map.of("x-api-key", "key-1", "CONTENT-TYPE", "application/json"), "POST", null, false));

        assertThat(request.header("X-API-Key")).contains("key-1");
        assertThat(request.header("X-Api-Key")).contains("key-1");
        assertThat(request.header("content-type")).contains("application/json");
        assertThat(request.header("Authorization")).isEmpty();
    }

    @Test
    void treatsABlankHeaderAsAbsentAndTrimsValues() {
        HttpRequest request = HttpRequest.from(event(Map.of("X-API-Key", "   ", "Authorization", "  Bearer t  "),
                "GET", null, false));

        assertThat(request.header("X-API-Key")).isEmpty();
        assertThat(request.header("Authorization")).contains("Bearer t");
    }

    @Test
    void decodesABase64Body() {
        String encoded = Base64.getEncoder().encodeToString(JSON_BODY.getBytes(StandardCharsets.UTF_8));

        HttpRequest request = HttpRequest.from(event(jsonType(), "POST", encoded, true));

        assertThat(new String(request.body(), StandardCharsets.UTF_8)).isEqualTo(JSON_BODY);
        assertThat(request.jsonBody().node().get("endpoint").asText()).isEqualTo("/a");
    }

    @Test
    void readsAPlainBodyAsUtf8() {
        HttpRequest request = HttpRequest.from(event(jsonType(), "POST", "{\"name\":\"Zoë\"}", false));

        assertThat(request.jsonBody().node().get("name").asText()).isEqualTo("Zoë");
    }

    @Test
    void rejectsABodyOverTheLimitWith413BeforeLookingAtItsContentType() {
        String body = "x".repeat(HttpRequest.MAX_BODY_BYTES + 1);
        HttpRequest request = HttpRequest.from(event(Map.of("Content-Type", "text/plain"), "POST", body, false));

        ApiException e = apiError(request::jsonBody);

        assertThat(e.status()).isEqualTo(413);
    }

    @Test
    void measuresTheLimitOnTheDecodedBody() {
        byte[] decoded = new byte[HttpRequest.MAX_BODY_BYTES + 1];
        Arrays.fill(decoded, (byte) ' ');
        String encoded = Base64.getEncoder().encodeToString(decoded);

        ApiException e = apiError(HttpRequest.from(event(jsonType(), "POST", encoded, true))::jsonBody);

        assertThat(e.status()).isEqualTo(413);
    }

    @Test
    void acceptsABodyOfExactlyTheLimit() {
        String padding = " ".repeat(HttpRequest.MAX_BODY_BYTES - JSON_BODY.length());
        HttpRequest request = HttpRequest.from(event(jsonType(), "POST", JSON_BODY + padding, false));

        assertThat(request.body()).hasSize(HttpRequest.MAX_BODY_BYTES);
        assertThat(request.jsonBody().node().has("ip")).isTrue();
    }

    @Test
    void checksTheContentTypeOfABodyOfExactlyTheLimit() {
        String body = "x".repeat(HttpRequest.MAX_BODY_BYTES);

        ApiException e = apiError(HttpRequest.from(event(Map.of("Content-Type", "text/plain"), "POST", body, false))::jsonBody);

        assertThat(e.status()).isEqualTo(415);
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/jsonx",
            "application/problem+json", "json"})
    void rejectsOtherContentTypesWith415(String contentType) {
        HttpRequest request = HttpRequest.from(event(Map.of("Content-Type", contentType), "POST", JSON_BODY, false));

        ApiException e = apiError(request::jsonBody);

        assertThat(e.status()).isEqualTo(415);
        assertThat(e.headers()).containsEntry("Accept", "application/json");
    }

    @Test
    void rejectsAMissingContentTypeWith415() {
        assertThat(apiError(HttpRequest.from(event(Map.of(), "POST", JSON_BODY, false))::jsonBody).status())
                .isEqualTo(415);
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
            " application/json ; charset=utf-8"})
    void acceptsJsonWithOrWithoutParameters(String contentType) {
        HttpRequest request = HttpRequest.from(event(Map.of("content-type", contentType), "POST", JSON_BODY, false));

        assertThat(request.jsonBody().node().get("ip").asText()).isEqualTo("10.0.0.1");
    }

    @Test
    void intParamFallsBackWhenAbsent() {
        assertThat(withQuery(Map.of()).intParam("days", 7, 1, 31)).isEqualTo(7);
    }

    @Test
    void intParamAcceptsValuesWithinInclusiveBounds() {
        assertThat(withQuery(Map.of("days", "1")).intParam("days", 7, 1, 31)).isEqualTo(1);
        assertThat(withQuery(Map.of("days", "31")).intParam("days", 7, 1, 31)).isEqualTo(31);
        assertThat(withQuery(Map.of("days", "12")).intParam("days", 7, 1, 31)).isEqualTo(12);
    }

    /** ASCII digits only, no sign, no leading zero, nothing around them (issue 18, finding 8). */
    @ParameterizedTest
    @ValueSource(strings = {"0", "32", "-1", "abc", "", "1.5", "99999999999", "7days", " 12 ", "+7", "07", "\u0667", "\uff17", "7\u0000", "1e1"})
    void intParamRejectsValuesOutsideBoundsOrNotIntegers(String raw) {
        ApiException e = apiError(() -> withQuery(Map.of("days", raw)).intParam("days", 7, 1, 31));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.errors()).containsExactly(new FieldError("days", "must be an integer from 1 to 31"));
    }

    @Test
    void intParamsNameEveryInvalidParameterInOneAnswer() {
        HttpRequest request = withQuery(Map.of("limit", "0", "hours", "25"));
        ApiException e = apiError(() -> request.intParams(new HttpRequest.IntParam("limit", 3, 1, 10),
                new HttpRequest.IntParam("hours", 24, 1, 24)));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.errors()).containsExactly(new FieldError("limit", "must be an integer from 1 to 10"),
                new FieldError("hours", "must be an integer from 1 to 24"));
        assertThat(withQuery(Map.of("hours", "5")).intParams(new HttpRequest.IntParam("limit", 3, 1, 10),
                new HttpRequest.IntParam("hours", 24, 1, 24))).containsExactly(3, 5);
    }

    // --- helpers --------------------------------------------------------------------------------

    private static Map<String, String> jsonType() {
        return Map.of("Content-Type", "application/json");
    }

    private static HttpRequest withQuery(Map<String, String> query) {
        return HttpRequest.from(APIGatewayV2HTTPEvent.builder().withRawPath("/api/usage/daily")
                .withQueryStringParameters(new HashMap<>(query)).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "null", " null\n", "{}"})
    void anOptionalBodyThatIsAbsentNullOrEmptyGivesNoFields(String body) {
        HttpRequest request = HttpRequest.from(event(Map.of("Content-Type", "application/json"), "POST", body, false));

        assertThat(request.optionalJsonBody().map(b -> b.node().size()).orElse(0)).isZero();
    }

    @Test
    void anOptionalBodyIsCheckedLikeAnyOtherWhenItIsGiven() {
        HttpRequest notAnObject = HttpRequest.from(event(Map.of("Content-Type", "application/json"), "POST", "[]", false));
        HttpRequest wrongType = HttpRequest.from(event(Map.of("Content-Type", "text/plain"), "POST", "{}", false));
        HttpRequest given = HttpRequest.from(event(Map.of("Content-Type", "application/json"), "POST", "{\"grace_seconds\":0}", false));

        assertThat(catchThrowable(notAnObject::optionalJsonBody)).isInstanceOf(ApiException.class);
        assertThat(((ApiException) catchThrowable(wrongType::optionalJsonBody)).status()).isEqualTo(415);
        assertThat(given.optionalJsonBody().orElseThrow().node().get("grace_seconds").asInt()).isZero();
    }

    public static APIGatewayV2HTTPEvent event(Map<String, String> headers, String method, String body, boolean base64) {
        return APIGatewayV2HTTPEvent.builder()
                .withRawPath("/api/logs")
                .withHeaders(new HashMap<>(headers))
                .withBody(body)
                .withIsBase64Encoded(base64)
                .withRequestContext(RequestContext.builder()
                        .withRequestId("req-123")
                        .withHttp(RequestContext.Http.builder().withMethod(method).withSourceIp("198.51.100.4").build())
                        .build())
                .build();
    }

    private static ApiException apiError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }
}
