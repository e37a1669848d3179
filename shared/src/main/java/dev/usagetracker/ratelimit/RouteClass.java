package dev.usagetracker.ratelimit;

/**
 * What a request spends its quota on. Ingest and reads are limited per client in requests (a batch is
 * one ingest request), ingest also in hits ({@link #INGEST_HITS}); registration, which has no client yet,
 * per source IP.
 */
public enum RouteClass {
    INGEST("ingest", "RATE_LIMIT_INGEST", "500/1m,1000/1h"),
    /** Ingest's second dimension, an abuse cap: a batch of n hits costs n here (and 1 in {@link #INGEST}). */
    INGEST_HITS("ingest_hits", "RATE_LIMIT_INGEST_HITS", "60000/1m"),
    READ("read", "RATE_LIMIT_READ", "60/1m,1000/1h"),
    REGISTER("register", "RATE_LIMIT_REGISTER", "10/1m,100/1h");

    private final String wireName;
    private final String variable;
    private final String defaults;

    RouteClass(String wireName, String variable, String defaults) {
        this.wireName = wireName;
        this.variable = variable;
        this.defaults = defaults;
    }

    /** As in policy names, Redis keys and plan definitions. */
    public String wireName() {
        return wireName;
    }

    /** The environment variable with this class's default limits. */
    public String variable() {
        return variable;
    }

    public String defaults() {
        return defaults;
    }
}
