package dev.usagetracker.auth;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the REQUEST authorizer decided about a bearer token and a source IP, carried to the handler in
 * the authorizer context. The authorizer lets every request through with its verdict and the handler
 * renders a refusal as RFC 9457 problem+json with the right status: an HTTP API cannot customise the
 * bare 403 it would send for a denial (docs/security.md).
 */
public record AccessVerdict(Outcome outcome, Optional<Principal> principal, String reason) {
    /** DISABLED: the client is disabled by an admin (403 {@code client-disabled}). */
    public enum Outcome { ALLOW, UNAUTHENTICATED, FORBIDDEN, DISABLED, UNAVAILABLE }

    public static AccessVerdict allow(Principal principal) {
        return new AccessVerdict(Outcome.ALLOW, Optional.of(principal), "");
    }

    public static AccessVerdict unauthenticated(String reason) {
        return new AccessVerdict(Outcome.UNAUTHENTICATED, Optional.empty(), reason);
    }

    public static AccessVerdict forbidden(String reason) {
        return new AccessVerdict(Outcome.FORBIDDEN, Optional.empty(), reason);
    }

    public static AccessVerdict disabled(String reason) {
        return new AccessVerdict(Outcome.DISABLED, Optional.empty(), reason);
    }

    /** A dependency (DynamoDB, KMS) did not answer: the route answers 503 + Retry-After, not 401 or 500. */
    public static AccessVerdict unavailable(String reason) {
        return new AccessVerdict(Outcome.UNAVAILABLE, Optional.empty(), reason);
    }

    /** Authorizer context values must be strings, numbers or booleans. */
    public Map<String, String> toContext() {
        Map<String, String> context = new HashMap<>();
        context.put("verdict", outcome.name().toLowerCase(java.util.Locale.ROOT));
        context.put("reason", reason);
        principal.ifPresent(p -> {
            context.put("client_id", p.clientId());
            context.put("role", p.role().wireName());
            context.put("scope", String.join(" ", p.scopes().stream().sorted().toList()));
            context.put("plan", p.plan());
            if (p.akh() != null) context.put("akh", p.akh());
            context.put("iat", Long.toString(p.iat()));
            context.put("exp", Long.toString(p.exp()));
        });
        return context;
    }

    /** Empty if the map is not one of ours (no authorizer ran). */
    public static Optional<AccessVerdict> fromContext(Map<String, ?> context) {
        if (context == null || !(context.get("verdict") instanceof String verdict)) return Optional.empty();
        Object rawReason = context.get("reason");
        String reason = rawReason == null ? "" : rawReason.toString();
        return Optional.of(switch (verdict) {
            case "allow" -> allow(new Principal(String.valueOf(context.get("client_id")),
                    Role.fromWire(String.valueOf(context.get("role"))),
                    Set.of(String.valueOf(context.get("scope")).split(" ")),
                    context.get("plan") instanceof String plan && !plan.isBlank() ? plan : Principal.DEFAULT_PLAN,
                    context.get("akh") instanceof String akh && !akh.isBlank() ? akh : null,
                    number(context.get("iat")), number(context.get("exp"))));
            case "forbidden" -> forbidden(reason);
            case "disabled" -> disabled(reason);
            case "unavailable" -> unavailable(reason);
            default -> unauthenticated(reason);
        });
    }

    private static long number(Object value) {
        if (value == null) return 0;
        try {
            return Long.parseLong(value.toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
