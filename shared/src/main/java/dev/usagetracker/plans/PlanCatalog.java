package dev.usagetracker.plans;

/** The plans clients are on, as the request path reads them (cached per container). */
public interface PlanCatalog {
    /** The plan of that name; an unknown name gets the default plan (a client is never unlimited). */
    Plan planOf(String planName);

    boolean exists(String planName);
}
