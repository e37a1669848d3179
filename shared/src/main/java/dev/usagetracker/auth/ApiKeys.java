package dev.usagetracker.auth;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/** API keys: 256 random bits, prefixed so a leaked key is recognisable by secret scanners. */
public final class ApiKeys {
    public static final String HASH_PURPOSE = "api-key";
    private static final SecureRandom RANDOM = dev.usagetracker.config.Entropy.random(); // restore-safe (SnapStart)
    /** Generated keys and operator-chosen ones (ADMIN_API_KEY) both fit; anything else is rejected unhashed. */
    private static final Pattern PLAUSIBLE = Pattern.compile("[A-Za-z0-9_.~-]{16,128}");

    private ApiKeys() {}

    public static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "ut_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Cheap check before any KMS call, so garbage keys cost nothing. */
    public static boolean isPlausible(String key) {
        return key != null && PLAUSIBLE.matcher(key).matches();
    }
}
