package dev.usagetracker.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;

class DependencyFailureTest {

    @Test
    void unreachableTimedOutThrottledAnd5xxAre503WithRetryAfter() {
        for (Throwable t : new Throwable[] {SdkClientException.create("refused"), ApiCallTimeoutException.create(2000),
                service(500, "InternalServerError"), service(400, "ThrottlingException"),
                new IllegalStateException("wrapped", SdkClientException.create("reset"))}) {
            ApiException e = DependencyFailure.of(t).orElseThrow(() -> new AssertionError(t));
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.headers()).containsEntry("Retry-After", "5");
        }
    }

    @Test
    void aRejectedRequestOrAnyOtherBugStaysA500() {
        assertThat(DependencyFailure.of(service(400, "ValidationException"))).isEmpty();
        assertThat(DependencyFailure.of(new NullPointerException())).isEmpty();
    }

    @Test
    void onlyTimeoutsAndBrokenConnectionsMeanTheDependencyIsUnreachable() {
        assertThat(DependencyFailure.isUnreachable(ApiCallTimeoutException.create(2000))).isTrue();
        assertThat(DependencyFailure.isUnreachable(SdkClientException.builder().message("x")
                .cause(new java.net.ConnectException("Connection refused")).build())).isTrue();
        assertThat(DependencyFailure.isUnreachable(SdkClientException.create("one request failed"))).isFalse();
        assertThat(DependencyFailure.isUnreachable(service(500, "InternalServerError"))).isFalse();
    }

    @Test
    void servingMapsAnUnreachableDependencyTo503ProblemJson() {
        var response = ApiGateway.serve(new com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent(), r -> {
            throw SdkClientException.create("connection refused");
        });
        assertThat(response.getStatusCode()).isEqualTo(503);
        assertThat(response.getHeaders()).containsEntry("Content-Type", "application/problem+json").containsKey("Retry-After");
        assertThat(response.getBody()).doesNotContain("refused");
    }

    private static AwsServiceException service(int status, String code) {
        return AwsServiceException.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
    }
}
