package dev.usagetracker.ratelimit;

import java.util.List;

/**
 * One window of one dimension and what a request costs in it. An ingest request is charged 1 in each
 * {@code ingest} window and n (its hits) in each {@code ingest_hits} window; a limiter checks and
 * consumes every charge of a request together, all or nothing.
 *
 * @param dimension empty for the route class's own dimension (requests), else a name kept apart in the
 *                  limiter's state, e.g. {@code hits}
 */
public record Charge(Limit limit, long cost, String dimension) {
    public Charge {
        if (cost < 1) throw new IllegalArgumentException("a charge costs at least 1 unit");
    }

    /** The same cost in every window of one dimension. */
    public static List<Charge> of(List<Limit> limits, long cost, String dimension) {
        return limits.stream().map(l -> new Charge(l, cost, dimension)).toList();
    }

    /** What identifies this window within a subject: the dimension and the window length. */
    public String stateKey() {
        String seconds = Long.toString(limit.windowSeconds());
        return dimension.isEmpty() ? seconds : dimension + ":" + seconds;
    }
}
