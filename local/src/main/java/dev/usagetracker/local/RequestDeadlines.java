package dev.usagetracker.local;

import java.util.Map;

/**
 * How long a client may take to send one request — request line, headers and body together — before
 * the local runtime closes its connection (slowloris, a declared body that never arrives). The runtime
 * serves HTTP with the JDK's server, whose deadline is the JVM-wide system property
 * {@code sun.net.httpserver.maxReqTime} (seconds, read when the first server starts): it is set from
 * {@code LOCAL_REQUEST_TIMEOUT_SECONDS} (default 30) unless the JVM was started with it already, so the
 * container image and {@code ./scripts/dev} get it too. Idle keep-alive connections are closed after
 * {@code sun.net.httpserver.idleInterval} (the JDK's default, 30 s).
 */
final class RequestDeadlines {
    static final String PROPERTY = "sun.net.httpserver.maxReqTime";
    static final String VARIABLE = "LOCAL_REQUEST_TIMEOUT_SECONDS";
    static final long DEFAULT_SECONDS = 30;

    private RequestDeadlines() {}

    /** Sets the deadline unless the JVM has one; returns the deadline in force, in seconds. */
    static long apply(Map<String, String> environment) {
        String configured = environment.get(VARIABLE);
        long seconds = configured == null || configured.isBlank() ? DEFAULT_SECONDS : Long.parseLong(configured.trim());
        if (seconds <= 0) throw new IllegalArgumentException(VARIABLE + " must be a positive number of seconds");
        System.getProperties().putIfAbsent(PROPERTY, Long.toString(seconds));
        return Long.parseLong(System.getProperty(PROPERTY));
    }
}
