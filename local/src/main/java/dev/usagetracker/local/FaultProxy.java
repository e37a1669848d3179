package dev.usagetracker.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy in front of an emulator that can cut the line: the way to take SQS (ElasticMQ, in this
 * JVM, whose queues live in memory) "down" for the fault tests and scripts/chaos without losing what
 * it already holds, as real SQS would not. While {@link #cut()} every open connection is reset and new
 * ones are accepted and reset at once, so callers see a dead endpoint immediately and nothing reaches
 * the emulator; {@link #restore()} lets traffic through again.
 */
public final class FaultProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);

    private final String name;
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;
    private volatile boolean closed;

    public FaultProxy(String name, int targetPort) throws IOException {
        this.name = name;
        this.targetPort = targetPort;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        Thread.ofVirtual().name("proxy-" + name).start(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port();
    }

    public boolean isCut() {
        return cut;
    }

    /** The dependency is unreachable from now on; requests in flight fail. */
    public void cut() {
        cut = true;
        open.forEach(FaultProxy::reset);
        open.clear();
        LOG.info("{} proxy: cut", name);
    }

    public void restore() {
        cut = false;
        LOG.info("{} proxy: restored", name);
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) LOG.warn("{} proxy stopped accepting: {}", name, e.getMessage());
                return;
            }
            if (cut) {
                reset(client);
                continue;
            }
            Thread.ofVirtual().start(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2_000);
        } catch (IOException e) {
            reset(client);
            close(upstream);
            return;
        }
        open.add(client);
        open.add(upstream);
        if (cut) { // cut while connecting
            reset(client);
            reset(upstream);
            return;
        }
        Thread.ofVirtual().start(() -> pump(client, upstream));
        pump(upstream, client);
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (cut) break;
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // the other side went away or the line was cut
        } finally {
            open.remove(from);
            open.remove(to);
            close(from);
            close(to);
        }
    }

    /** RST rather than FIN: the peer sees "connection reset", as with a crashed server. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        close(s);
    }

    private static void close(java.io.Closeable s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        close(server);
        open.forEach(FaultProxy::close);
        open.clear();
    }
}
