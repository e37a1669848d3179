package dev.usagetracker.plans;

import java.util.List;
import java.util.Optional;

/** Where the admin's plans are kept (items in the Clients table: see docs/database.md). */
public interface PlanStore {
    Optional<Plan> find(String name);

    /** Every stored plan, by name. */
    List<Plan> list();

    void put(Plan plan);
}
