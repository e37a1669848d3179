package dev.usagetracker.webhooks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 POST to a checked {@link WebhookUrlPolicy.Target}. The socket connects to the address the
 * policy checked, never to a name resolved again (no DNS rebinding); over TLS the certificate is verified
 * against the URL's host name (SNI and endpoint identification set to it). Redirects are not followed
 * (a 3xx is a failed attempt), the whole exchange is bounded by the timeout, and at most 64 KiB of the
 * response is read and thrown away: response bodies are never stored or logged.
 */
public final class WebhookSender {
    public static final int MAX_RESPONSE_BYTES = 64 * 1024;

    private final Duration timeout;
    private final SSLSocketFactory tls;

    /** {@code status} is the HTTP status, or 0 when there was none ({@code failure} says why). */
    public record Outcome(int status, String failure, long millis) {
        public boolean delivered() {
            return status >= 200 && status < 300;
        }

        /** The status as the delivery log and {@code last_delivery.status} show it. */
        public String label() {
            return status > 0 ? Integer.toString(status) : failure;
        }
    }

    public WebhookSender(Duration timeout, SSLContext context) {
        this.timeout = timeout;
        this.tls = context.getSocketFactory();
    }

    public WebhookSender(Duration timeout) {
        this(timeout, defaultContext());
    }

    private static SSLContext defaultContext() {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Outcome post(WebhookUrlPolicy.Target target, Map<String, String> headers, byte[] body) {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress(target.address(), target.port()), remainingMillis(deadline));
            raw.setSoTimeout(remainingMillis(deadline));
            Socket socket = raw;
            if (target.tls()) {
                SSLSocket ssl = (SSLSocket) tls.createSocket(raw, target.host(), target.port(), true);
                SSLParameters parameters = ssl.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                if (!isLiteral(target.host())) parameters.setServerNames(List.of(new SNIHostName(target.host())));
                ssl.setSSLParameters(parameters);
                ssl.startHandshake();
                socket = ssl;
            }
            OutputStream out = socket.getOutputStream();
            StringBuilder head = new StringBuilder();
            head.append("POST ").append(target.requestTarget()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(target.hostHeader()).append("\r\n")
                    .append("User-Agent: usage-tracker-webhooks/1\r\n")
                    .append("Content-Type: application/json\r\n")
                    .append("Content-Length: ").append(body.length).append("\r\n")
                    .append("Connection: close\r\n");
            headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
            head.append("\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
            int status = readStatus(in, deadline, socket);
            drain(in, deadline, socket);
            return new Outcome(status, null, elapsed(started));
        } catch (SocketTimeoutException e) {
            return new Outcome(0, "timeout", elapsed(started));
        } catch (javax.net.ssl.SSLException e) {
            return new Outcome(0, "tls_error", elapsed(started));
        } catch (IOException e) {
            return new Outcome(0, System.nanoTime() - deadline >= 0 ? "timeout" : "connection_error", elapsed(started));
        } catch (IllegalStateException e) {
            return new Outcome(0, "bad_response", elapsed(started));
        }
    }

    private static int readStatus(InputStream in, long deadline, Socket socket) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = read(in, deadline, socket)) != -1 && c != '\n') {
            if (line.length() > 1024) throw new IllegalStateException("status line too long");
            line.append((char) c);
        }
        String[] parts = line.toString().trim().split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IllegalStateException("not an HTTP/1.x response");
        try {
            int status = Integer.parseInt(parts[1]);
            if (status < 100 || status > 599) throw new IllegalStateException("bad status");
            return status;
        } catch (NumberFormatException e) {
            throw new IllegalStateException("bad status");
        }
    }

    /** Reads (and discards) what is left of the response, at most 64 KiB, within the deadline. */
    private static void drain(InputStream in, long deadline, Socket socket) throws IOException {
        byte[] buffer = new byte[8192];
        int total = 0;
        try {
            while (total < MAX_RESPONSE_BYTES) {
                socket.setSoTimeout(remainingMillis(deadline));
                int n = in.read(buffer, 0, Math.min(buffer.length, MAX_RESPONSE_BYTES - total));
                if (n < 0) return;
                total += n;
            }
        } catch (SocketTimeoutException e) {
            // The status is what counts; a receiver that keeps the body open is cut off at the deadline.
        }
    }

    private static int read(InputStream in, long deadline, Socket socket) throws IOException {
        socket.setSoTimeout(remainingMillis(deadline));
        return in.read();
    }

    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) throw new SocketTimeoutException("webhook deadline passed");
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static long elapsed(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static boolean isLiteral(String host) {
        return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }
}
