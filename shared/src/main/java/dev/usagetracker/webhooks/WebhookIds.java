package dev.usagetracker.webhooks;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Standard Webhooks message ids: {@code msg_} and 26 hex characters. */
public final class WebhookIds {
    private WebhookIds() {}

    public static String random(SecureRandom random) {
        byte[] b = new byte[13];
        random.nextBytes(b);
        return "msg_" + HexFormat.of().formatHex(b);
    }
}
