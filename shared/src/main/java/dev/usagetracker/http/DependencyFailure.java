package dev.usagetracker.http;

import java.util.Optional;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Tells a dependency that is down or overloaded (a temporary condition: the caller should retry
 * later) from a bug (a 500). Unreachable, timed out, throttled and 5xx AWS calls become a 503 with
 * Retry-After; an AWS 4xx such as a validation error is our mistake and stays a 500.
 */
public final class DependencyFailure {
    public static final int RETRY_AFTER_SECONDS = 5;

    private DependencyFailure() {}

    public static Optional<ApiException> of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SdkClientException
                    || t instanceof AwsServiceException s && (s.isThrottlingException() || s.statusCode() >= 500)) {
                return Optional.of(ApiException.unavailable(
                        "A storage dependency is temporarily unavailable; retry after the Retry-After delay.",
                        RETRY_AFTER_SECONDS));
            }
        }
        return Optional.empty();
    }

    /**
     * True when the dependency itself did not answer (a timeout, a refused or reset connection), as
     * opposed to one request failing: worth not trying the next request against it right away.
     */
    public static boolean isUnreachable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof software.amazon.awssdk.core.exception.ApiCallTimeoutException
                    || t instanceof software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException
                    || t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }
}
