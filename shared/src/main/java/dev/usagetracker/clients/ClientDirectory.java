package dev.usagetracker.clients;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin's paged view of every client, read from the sparse {@code by_entity} index (never a table
 * scan): one Query of at most {@code limit} rows per page, in client_id order.
 */
public interface ClientDirectory {
    /** One row of the listing. */
    record Row(String clientId, String name, String role, String plan, boolean disabled, String createdAt) {}

    /**
     * @param after the last key of the previous page ({@code client_id} → value), empty for the first page
     * @param next  the key to continue after, empty when this was the last page
     */
    record Page(List<Row> rows, Optional<String> next) {}

    Page page(int limit, Optional<String> afterClientId);
}
