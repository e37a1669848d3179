package dev.usagetracker.alerts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.YearMonth;
import java.util.HexFormat;

/** Event ids: stable per (client, month, threshold), so a re-sent event keeps its {@code webhook-id}. */
public final class AlertEvents {
    private AlertEvents() {}

    /** {@code msg_} and 26 hex characters of SHA-256 over the claim key: no client id in a header. */
    public static String eventId(String clientId, YearMonth month, int percent) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((clientId + "#alert#" + month + "#" + percent).getBytes(StandardCharsets.UTF_8));
            return "msg_" + HexFormat.of().formatHex(digest).substring(0, 26);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
