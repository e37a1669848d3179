package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.Json;
import java.nio.charset.StandardCharsets;

/**
 * What a live client receives for one aggregate change, the same on every transport: the client's
 * count for the day after the change. Counts of a day only grow, so a client keeps the largest it has
 * seen for a (client, date) and may ignore a smaller one that arrives late.
 */
public record UsageMessage(String clientId, String date, long count) {
    /** The SSE event name, and the {@code event} of a WebSocket frame. */
    public static final String EVENT = "usage";

    /** A WebSocket frame: the SSE fields in one JSON object. */
    public record Frame(String event, String id, UsageMessage data) {}

    public static UsageMessage of(UsageUpdate update) {
        return new UsageMessage(update.clientId(), update.date(), update.count());
    }

    /** A client sees only its own usage; the admin sees everyone's. */
    public static boolean visibleTo(Principal viewer, String clientId) {
        return viewer.isAdmin() || viewer.clientId().equals(clientId);
    }

    /** The SSE {@code data:} line: {@code {"client_id","date","count"}}. */
    public String json() {
        return new String(Json.write(this), StandardCharsets.UTF_8);
    }

    /** {@code {"event":"usage","id":…,"data":{"client_id","date","count"}}}. */
    public String frame(String id) {
        return new String(Json.write(new Frame(EVENT, id, this)), StandardCharsets.UTF_8);
    }
}
