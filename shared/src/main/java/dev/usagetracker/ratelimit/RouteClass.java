package dev.usagetracker.ratelimit;

/**
 * What a request spends its quota on. Ingest and reads are limited per client (a batch of n hits costs
 * n ingest units); registration, which has no client yet, per source IP.
 */
public enum RouteClass {
    INGEST("ingest", "RATE_LIMIT_INGEST", "500/1m,1000/1h"),
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
