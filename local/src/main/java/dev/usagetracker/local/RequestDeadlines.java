package dev.usagetracker.local;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long a client may take to send one request — request line, headers and body together — before the
 * local runtime closes its connection (slowloris, a declared body that never arrives, a body dripped a byte
 * at a time). Jetty's idle timeout alone does not do it: every dripped byte restarts it. So each HTTP
 * connection of the gateway has a clock: it starts when the connection opens and stops when the request has
 * arrived — its body read to the end (or it has none) — or the answer has started; if the deadline passes
 * while it runs, the connection is closed. The time a function takes does not count. On a kept-alive
 * connection the clock starts again when an answer is complete, with the idle allowance added (the client
 * may wait that long before it starts the next request; the connector's idle timeout closes a connection
 * that stays silent). {@code LOCAL_REQUEST_TIMEOUT_SECONDS} (default 30), per runtime, so the container
 * image and {@code ./scripts/dev} have it too.
 */
final class RequestDeadlines implements Connection.Listener {
    static final String VARIABLE = "LOCAL_REQUEST_TIMEOUT_SECONDS";
    static final long DEFAULT_SECONDS = 30;
    private static final Logger LOG = LoggerFactory.getLogger(RequestDeadlines.class);
    /** For a request whose connection this listener never saw: no deadline. */
    static final Clock NONE = new Clock(null, null, 0, 0);

    private final Duration deadline;
    private final Duration idle;
    private final Scheduler scheduler;
    private final Map<Connection, Clock> clocks = new ConcurrentHashMap<>();

    /** {@code idle}: how long a kept-alive connection may wait before its next request starts. */
    RequestDeadlines(Duration deadline, Duration idle, Scheduler scheduler) {
        this.deadline = deadline;
        this.idle = idle;
        this.scheduler = scheduler;
    }

    /** The deadline {@code environment} asks for. */
    static Duration from(Map<String, String> environment) {
        String configured = environment.get(VARIABLE);
        long seconds = configured == null || configured.isBlank() ? DEFAULT_SECONDS : Long.parseLong(configured.trim());
        if (seconds <= 0) throw new IllegalArgumentException(VARIABLE + " must be a positive number of seconds");
        return Duration.ofSeconds(seconds);
    }

    Duration deadline() {
        return deadline;
    }

    @Override
    public void onOpened(Connection connection) {
        // the HTTP connection, not the TLS one beneath it
        if (!(connection instanceof ConnectionMetaData)) return;
        Clock clock = new Clock(connection, scheduler, deadline.toNanos(), idle.toNanos());
        clocks.put(connection, clock);
        clock.start(0);
    }

    @Override
    public void onClosed(Connection connection) {
        Clock clock = clocks.remove(connection);
        if (clock != null) clock.received();
    }

    Clock clockOf(Request request) {
        return clocks.getOrDefault(request.getConnectionMetaData().getConnection(), NONE);
    }

    /** The running time of the request a connection is receiving. */
    static final class Clock {
        private final Connection connection;
        private final Scheduler scheduler;
        private final long nanos;
        private final long idleNanos;
        private Scheduler.Task task;
        private boolean receiving;
        private long generation;

        private Clock(Connection connection, Scheduler scheduler, long nanos, long idleNanos) {
            this.connection = connection;
            this.scheduler = scheduler;
            this.nanos = nanos;
            this.idleNanos = idleNanos;
        }

        /** An answer is complete: the next request on the connection may start, within the idle allowance. */
        void restart() {
            start(idleNanos);
        }

        private synchronized void start(long allowance) {
            if (connection == null) return;
            cancel();
            receiving = true;
            long current = ++generation;
            task = scheduler.schedule(() -> expire(current), allowance + nanos, TimeUnit.NANOSECONDS);
        }

        /** The request has arrived (or the answer started): the deadline no longer applies. */
        synchronized void received() {
            receiving = false;
            generation++;
            cancel();
        }

        private void cancel() {
            if (task != null) task.cancel();
            task = null;
        }

        private synchronized void expire(long scheduled) {
            if (!receiving || scheduled != generation) return;
            receiving = false;
            LOG.atDebug().addKeyValue("remote", connection.getEndPoint().getRemoteSocketAddress())
                    .log("request not received within the deadline: connection closed");
            connection.getEndPoint().close();
        }
    }
}
