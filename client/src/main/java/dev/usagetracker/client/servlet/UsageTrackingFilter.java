package dev.usagetracker.client.servlet;

import dev.usagetracker.client.UsageTracker;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Records every HTTP request of a servlet application into a {@link UsageTracker}: the endpoint is the
 * route template where the framework exposes one in a request attribute (by default Spring MVC's
 * {@value #SPRING_BEST_MATCHING_PATTERN}), else the request path without the query; the client address
 * is the socket peer, or, when the peer is a {@link TrustedProxies trusted proxy}, the rightmost
 * untrusted address of {@code X-Forwarded-For}. The hit is timestamped when the request arrives and
 * recorded when the application has answered (so that the route attribute is set), with the request's
 * method, the response's status (500 when the application threw and nothing was sent yet) and the time the
 * application took; an async request is recorded when it completes. A request no route matched (no route
 * attribute, answered 404) is recorded under its path, or not at all with {@link #skipUnmatched}.
 * Recording never blocks or fails the request.
 *
 * <p>Programmatic (Spring Boot: a {@code FilterRegistrationBean}): {@code new UsageTrackingFilter(tracker,
 * TrustedProxies.of("10.0.0.0/8"))}; the tracker is yours to close. Declarative ({@code web.xml}, no-arg
 * constructor): init parameters {@code baseUrl}, {@code apiKey} (or {@code apiKeyEnv}, the name of an
 * environment variable holding it), {@code trustedProxies} (CIDRs, comma-separated),
 * {@code routeAttributes} (comma-separated attribute names), {@code skipUnmatched} ({@code true}/{@code false})
 * and {@code flushIntervalMillis}; the filter
 * then owns its tracker and closes it in {@link #destroy()}.
 */
public class UsageTrackingFilter implements Filter {
    /** The attribute in which Spring MVC puts the matched route template, e.g. {@code /users/{id}}. */
    public static final String SPRING_BEST_MATCHING_PATTERN = "org.springframework.web.servlet.HandlerMapping.bestMatchingPattern";

    private UsageTracker tracker;
    private TrustedProxies trustedProxies;
    private List<String> routeAttributes;
    private boolean ownsTracker;
    private volatile boolean skipUnmatched;

    /** For {@code web.xml}: configured from the init parameters in {@link #init}. */
    public UsageTrackingFilter() {
    }

    /** Trusts no proxy and reads Spring MVC's route attribute. */
    public UsageTrackingFilter(UsageTracker tracker) {
        this(tracker, TrustedProxies.none(), List.of(SPRING_BEST_MATCHING_PATTERN));
    }

    /** Reads Spring MVC's route attribute. */
    public UsageTrackingFilter(UsageTracker tracker, TrustedProxies trustedProxies) {
        this(tracker, trustedProxies, List.of(SPRING_BEST_MATCHING_PATTERN));
    }

    /**
     * @param routeAttributes request attributes that may hold the route template, tried in order
     */
    public UsageTrackingFilter(UsageTracker tracker, TrustedProxies trustedProxies, List<String> routeAttributes) {
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.trustedProxies = Objects.requireNonNull(trustedProxies, "trustedProxies");
        this.routeAttributes = List.copyOf(routeAttributes);
    }

    /**
     * Whether a request no route matched — no route attribute set and answered {@code 404} — is left out
     * (default {@code false}: it is recorded under its path with its status).
     */
    public UsageTrackingFilter skipUnmatched(boolean skip) {
        this.skipUnmatched = skip;
        return this;
    }

    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        String skip = filterConfig.getInitParameter("skipUnmatched");
        if (skip != null) skipUnmatched = Boolean.parseBoolean(skip.trim());
        if (tracker != null) return;
        String baseUrl = filterConfig.getInitParameter("baseUrl");
        String apiKey = filterConfig.getInitParameter("apiKey");
        String apiKeyEnv = filterConfig.getInitParameter("apiKeyEnv");
        if (apiKey == null && apiKeyEnv != null) apiKey = System.getenv(apiKeyEnv);
        if (baseUrl == null || apiKey == null || apiKey.isBlank()) {
            throw new ServletException("UsageTrackingFilter needs the init parameters baseUrl and apiKey (or apiKeyEnv)");
        }
        try {
            UsageTracker.Builder b = UsageTracker.builder(URI.create(baseUrl), apiKey);
            String flush = filterConfig.getInitParameter("flushIntervalMillis");
            if (flush != null) b.flushInterval(Duration.ofMillis(Long.parseLong(flush.trim())));
            trustedProxies = TrustedProxies.parse(filterConfig.getInitParameter("trustedProxies"));
            String attrs = filterConfig.getInitParameter("routeAttributes");
            routeAttributes = attrs == null ? List.of(SPRING_BEST_MATCHING_PATTERN)
                    : List.of(attrs.trim().isEmpty() ? new String[0] : attrs.trim().split("\\s*,\\s*"));
            tracker = b.build();
            ownsTracker = true;
        } catch (IllegalArgumentException e) {
            throw new ServletException("UsageTrackingFilter: " + e.getMessage());
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest http)) {
            chain.doFilter(request, response);
            return;
        }
        Instant at = Instant.now();
        long start = System.nanoTime();
        boolean threw = true;
        try {
            chain.doFilter(request, response);
            threw = false;
        } finally {
            try {
                if (!threw && http.isAsyncStarted()) {
                    http.getAsyncContext().addListener(new Completion(http, response, at, start));
                } else {
                    record(http, response, at, start, threw);
                }
            } catch (RuntimeException ignored) {
                // the tracker never throws; a broken request object must not fail the response either
            }
        }
    }

    private void record(HttpServletRequest http, ServletResponse response, Instant at, long start, boolean threw) {
        long nanos = System.nanoTime() - start;
        int status = response instanceof HttpServletResponse r ? r.getStatus() : 0;
        // an exception on its way to the container: it answers 500 unless the application had sent its answer
        if (threw && !response.isCommitted()) status = 500;
        if (status == 404 && skipUnmatched && routeTemplate(http) == null) return;
        UsageTracker.Hit hit = new UsageTracker.Hit(clientAddress(http), endpoint(http), at,
                http.getMethod(), status > 0 ? status : null, nanos / 1e6);
        tracker.record(hit);
    }

    /** Records an async request when it completes, times out or fails, once. */
    private final class Completion implements AsyncListener {
        private final HttpServletRequest request;
        private final ServletResponse response;
        private final Instant at;
        private final long start;
        private boolean done;

        Completion(HttpServletRequest request, ServletResponse response, Instant at, long start) {
            this.request = request;
            this.response = response;
            this.at = at;
            this.start = start;
        }

        @Override
        public synchronized void onComplete(AsyncEvent event) {
            if (done) return;
            done = true;
            try {
                record(request, response, at, start, false);
            } catch (RuntimeException ignored) {
                // as above
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            // the container completes the request after this (with its own status): recorded then
        }

        @Override
        public void onError(AsyncEvent event) {
            // likewise
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this);
        }
    }

    /**
     * The route template, else the path without the query string and without path parameters: a
     * {@code ;jsessionid=…} in the URI is a session credential, and must not be metered.
     */
    protected String endpoint(HttpServletRequest request) {
        String route = routeTemplate(request);
        return route != null ? route : path(request);
    }

    /** The route template the framework put into one of the route attributes; {@code null} when no route matched. */
    private String routeTemplate(HttpServletRequest request) {
        for (String name : routeAttributes) {
            Object v = request.getAttribute(name);
            if (v != null) {
                String s = v.toString();
                if (s.startsWith("/")) return s;
            }
        }
        return null;
    }

    private static String path(HttpServletRequest request) {
        String uri = request.getRequestURI();
        return uri == null || uri.isEmpty() ? "/" : withoutPathParameters(uri);
    }

    /** {@code /a;jsessionid=X/b;v=1} → {@code /a/b} (RFC 3986 §3.3: a segment's parameters follow {@code ;}). */
    static String withoutPathParameters(String path) {
        if (path.indexOf(';') < 0) return path;
        StringBuilder out = new StringBuilder(path.length());
        boolean inParameters = false;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '/') inParameters = false;
            else if (c == ';') inParameters = true;
            if (!inParameters) out.append(c);
        }
        return out.isEmpty() ? "/" : out.toString();
    }

    /** The socket peer, or the rightmost untrusted hop of X-Forwarded-For when the peer is a trusted proxy. */
    protected String clientAddress(HttpServletRequest request) {
        String remote = request.getRemoteAddr();
        if (!trustedProxies.trusts(remote)) return remote;
        List<String> values = new ArrayList<>();
        var headers = request.getHeaders("X-Forwarded-For");
        if (headers != null) values.addAll(Collections.list(headers));
        return trustedProxies.clientAddress(remote, values);
    }

    @Override
    public void destroy() {
        if (ownsTracker && tracker != null) tracker.close();
    }
}
