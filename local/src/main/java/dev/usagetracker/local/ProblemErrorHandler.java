package dev.usagetracker.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Responses;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The answer to what Jetty refuses before the gateway sees a request — a malformed or repeated
 * {@code Content-Length}, {@code Content-Length} with {@code Transfer-Encoding}, a bare CR in a header,
 * an invalid request line, headers too large — and to a request the gateway gave up on: an RFC 9457
 * problem like every other answer of the runtime (type, title, status, detail, instance), with the same
 * security headers, never an HTML page, a stack trace or a server banner.
 */
final class ProblemErrorHandler extends ErrorHandler {
    /** Jetty's reasons ("Duplicate Content-Length", "Illegal character CR") are safe to repeat; anything else is not. */
    private static final Pattern PLAIN_REASON = Pattern.compile("[A-Za-z0-9 ,.:;'()/_-]{1,120}");

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = request.getAttribute(ERROR_STATUS) instanceof Integer s ? s : 500;
        String reason = request.getAttribute(ERROR_MESSAGE) instanceof String m ? m : null;
        APIGatewayV2HTTPResponse problem = problem(status, reason);
        response.setStatus(status);
        HttpFields.Mutable headers = response.getHeaders();
        problem.getHeaders().forEach(headers::put);
        HttpApiGateway.SECURITY_HEADERS.forEach(headers::put);
        response.write(true, ByteBuffer.wrap(problem.getBody().getBytes(StandardCharsets.UTF_8)), callback);
        return true;
    }

    /** Where Jetty writes a bad message's answer itself. */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        APIGatewayV2HTTPResponse problem = problem(status, reason);
        problem.getHeaders().forEach(fields::put);
        HttpApiGateway.SECURITY_HEADERS.forEach(fields::put);
        return ByteBuffer.wrap(problem.getBody().getBytes(StandardCharsets.UTF_8));
    }

    static APIGatewayV2HTTPResponse problem(int status, String reason) {
        String requestId = HttpApiGateway.requestId();
        if (status == 500) return Responses.internalError(requestId);
        String title = HttpStatus.getMessage(status);
        String detail = reason != null && PLAIN_REASON.matcher(reason).matches() && !reason.equalsIgnoreCase(title)
                ? "The HTTP request was refused: " + reason + "."
                : "The HTTP request was refused: " + title + ".";
        ApiException e = switch (status) {
            case 400 -> ApiException.badRequest(detail);
            case 413 -> ApiException.payloadTooLarge(detail);
            default -> new ApiException(status, title.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-"),
                    title, detail, List.of(), Map.of());
        };
        APIGatewayV2HTTPResponse answer = Responses.problem(e, requestId);
        answer.getHeaders().put("apigw-requestid", requestId);
        return answer;
    }
}
