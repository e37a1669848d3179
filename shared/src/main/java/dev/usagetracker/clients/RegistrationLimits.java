package dev.usagetracker.clients;

import dev.usagetracker.ratelimit.Limit;
import dev.usagetracker.ratelimit.RateLimitGuard;
import java.util.List;
import java.util.Map;

/**
 * Registration limits beyond the per-source-IP one (RATE_LIMIT_REGISTER), against enumeration from
 * many addresses: per email address, keyed by its lookup HMAC (never the address), and one ceiling
 * across all addresses. Both are charged quietly ({@link RateLimitGuard#chargeQuietly}): their
 * remaining counts are never shown, so they cannot tell whether someone else tried an address.
 */
public record RegistrationLimits(List<Limit> perEmail, List<Limit> global) {
    public static final String EMAIL_VARIABLE = "RATE_LIMIT_REGISTER_EMAIL";
    public static final String GLOBAL_VARIABLE = "RATE_LIMIT_REGISTER_GLOBAL";
    static final String EMAIL_DEFAULT = "5/1h";
    static final String GLOBAL_DEFAULT = "120/1m,3000/1h";
    static final String REFUSAL = "Too many registration attempts; retry after the Retry-After delay.";

    public static RegistrationLimits from(Map<String, String> env) {
        return new RegistrationLimits(
                Limit.parse("register-email", env.getOrDefault(EMAIL_VARIABLE, EMAIL_DEFAULT)),
                Limit.parse("register-all", env.getOrDefault(GLOBAL_VARIABLE, GLOBAL_DEFAULT)));
    }

    /** Charges the service-wide ceiling (before any work). */
    public void chargeGlobal(RateLimitGuard guard) {
        guard.chargeQuietly("register-all:*", global, REFUSAL);
    }

    /** Charges the address, by its HMAC. */
    public void chargeEmail(RateLimitGuard guard, String emailHash) {
        guard.chargeQuietly("register-email:" + emailHash, perEmail, REFUSAL);
    }
}
