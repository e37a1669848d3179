package dev.usagetracker.local;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * One request served by Jetty, seen through the JDK's {@link HttpExchange} API that the gateway's handler
 * and the SSE endpoint are written against, with the JDK server's meaning of
 * {@link #sendResponseHeaders}: a length of -1 is "no body", 0 is "streamed until closed".
 *
 * <p>Jetty's own {@code jetty-http-spi} bridge (12.1.14) was not used: apart from a few single-value headers
 * it splits each request header value at its commas and unquotes the parts, so the function would not see
 * what the client sent ({@code If-None-Match: "v1"} arrives as {@code v1}, {@code Accept: a, b} as
 * {@code a,b}); API Gateway passes header values as they are.
 */
final class JettyExchange extends HttpExchange {
    /** How long a streamed answer (SSE) may go without a byte either way; its heartbeats come far more often. */
    static final Duration STREAM_IDLE = Duration.ofMinutes(10);

    private final Request request;
    private final Response response;
    private final URI uri;
    private final RequestDeadlines.Clock clock;
    private final Headers requestHeaders = new Headers();
    private final SpelledHeaders responseHeaders = new SpelledHeaders();
    private InputStream in;
    private OutputStream out;
    private int responseCode = -1;
    private boolean sent;
    private boolean closed;
    private long idleBeforeStream = -1;
    private IOException failure;

    JettyExchange(Request request, Response response, URI uri, RequestDeadlines.Clock clock) {
        this.request = request;
        this.response = response;
        this.uri = uri;
        this.clock = clock;
        // each header line as it came: API Gateway joins repeated headers with commas, it never splits one
        for (HttpField field : request.getHeaders()) {
            if (field.getValue() != null) requestHeaders.add(field.getName(), field.getValue());
        }
        this.in = new FilterInputStream(Content.Source.asInputStream(request)) {
            @Override
            public int read() throws IOException {
                return received(super.read());
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return received(super.read(b, off, len));
            }
        };
        this.out = Content.Sink.asOutputStream(response);
        if (!hasBody(request)) clock.received();
    }

    /** HTTP/1.1 (RFC 9112 §6.3): a request without Content-Length and Transfer-Encoding has no body. */
    private static boolean hasBody(Request request) {
        String length = request.getHeaders().get(HttpHeader.CONTENT_LENGTH);
        return request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING) || (length != null && !length.trim().equals("0"));
    }

    private int received(int n) {
        if (n < 0) clock.received();
        return n;
    }

    @Override
    public Headers getRequestHeaders() {
        return requestHeaders;
    }

    @Override
    public Headers getResponseHeaders() {
        return responseHeaders;
    }

    @Override
    public URI getRequestURI() {
        return uri;
    }

    @Override
    public String getRequestMethod() {
        return request.getMethod();
    }

    @Override
    public HttpContext getHttpContext() {
        return null;
    }

    @Override
    public InputStream getRequestBody() {
        return in;
    }

    @Override
    public OutputStream getResponseBody() {
        return out;
    }

    @Override
    public void sendResponseHeaders(int status, long length) throws IOException {
        if (sent) throw new IOException("the response headers were sent already");
        sent = true;
        responseCode = status;
        // the answer has started: whatever of the body the handler did not read, the deadline no longer applies
        clock.received();
        responseHeaders.forEach((name, values) -> values.forEach(v -> response.getHeaders().add(responseHeaders.spelling(name), v)));
        if (length > 0) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        } else if (length < 0) {
            // no body: Jetty completes it with Content-Length: 0 (none on a 204 or 304) when the exchange closes
        } else {
            // streamed until closed (SSE): the heartbeats keep it busy, a longer idle allowance than a request's
            EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
            idleBeforeStream = endPoint.getIdleTimeout();
            endPoint.setIdleTimeout(Math.max(idleBeforeStream, STREAM_IDLE.toMillis()));
        }
        response.setStatus(status);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (!sent) return; // complete() tells Jetty that no answer came
        try {
            out.close();
        } catch (IOException e) {
            failure = e;
        }
    }

    /**
     * Ends Jetty's side once the handler has returned. A handler that sent nothing gave up on the request
     * (its client went away or stopped sending the body): 408 if the connection is still there to hear it.
     */
    void complete(Callback callback) {
        close();
        if (idleBeforeStream >= 0) request.getConnectionMetaData().getConnection().getEndPoint().setIdleTimeout(idleBeforeStream);
        if (!sent) {
            callback.failed(new HttpException.RuntimeException(408, "The request was not received in time."));
        } else if (failure != null) {
            callback.failed(failure);
        } else {
            clock.restart(); // the next request on this connection has its own deadline, counted from now
            callback.succeeded();
        }
    }

    @Override
    public InetSocketAddress getRemoteAddress() {
        return request.getConnectionMetaData().getRemoteSocketAddress() instanceof InetSocketAddress a ? a : null;
    }

    @Override
    public int getResponseCode() {
        return responseCode;
    }

    @Override
    public InetSocketAddress getLocalAddress() {
        return request.getConnectionMetaData().getLocalSocketAddress() instanceof InetSocketAddress a ? a : null;
    }

    @Override
    public String getProtocol() {
        return request.getConnectionMetaData().getProtocol();
    }

    @Override
    public Object getAttribute(String name) {
        return request.getAttribute(name);
    }

    @Override
    public void setAttribute(String name, Object value) {
        request.setAttribute(name, value);
    }

    @Override
    public void setStreams(InputStream i, OutputStream o) {
        if (i != null) in = i;
        if (o != null) out = o;
    }

    @Override
    public HttpPrincipal getPrincipal() {
        return null;
    }

    /**
     * The JDK's {@link Headers} store names as {@code X-frame-options}; this keeps the spelling the function
     * (or the gateway) last used for each name, so the answer carries {@code X-Frame-Options} and
     * {@code RateLimit-Policy} byte for byte as the Lambda response had them, as API Gateway passes them on.
     */
    static final class SpelledHeaders extends Headers {
        private final Map<String, String> spelled = new HashMap<>();

        @Override
        public void add(String key, String value) {
            remember(key);
            super.add(key, value);
        }

        @Override
        public void set(String key, String value) {
            remember(key);
            super.set(key, value);
        }

        @Override
        public List<String> put(String key, List<String> value) {
            remember(key);
            return super.put(key, value);
        }

        @Override
        public void putAll(Map<? extends String, ? extends List<String>> headers) {
            headers.forEach(this::put);
        }

        private void remember(String key) {
            if (key != null) spelled.put(key.toLowerCase(Locale.ROOT), key);
        }

        /** The name as it was last given, for a name as {@link Headers} stores it. */
        String spelling(String stored) {
            return spelled.getOrDefault(stored.toLowerCase(Locale.ROOT), stored);
        }
    }
}
