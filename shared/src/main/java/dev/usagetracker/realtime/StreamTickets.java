package dev.usagetracker.realtime;

import dev.usagetracker.auth.Principal;
import dev.usagetracker.auth.Role;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.Json;
import dev.usagetracker.redis.Redis;
import io.lettuce.core.SetArgs;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Short-lived, single-use tickets for {@code GET /api/usage/stream?ticket=}: a browser's EventSource
 * cannot send an Authorization header, and an access token in a URL would sit in logs and histories for
 * its whole lifetime. A ticket stands for the caller who asked for it (a bearer token holder), lives
 * {@link #TTL} in Redis under its SHA-256 (a Redis dump holds nothing usable), and is consumed by the
 * GETDEL that redeems it, so a replayed or leaked ticket is worthless. Redis is shared by every process,
 * so a ticket issued by the Lambda function is redeemed by whichever process serves the stream.
 */
public final class StreamTickets {
    public static final Duration TTL = Duration.ofSeconds(30);
    private static final String PREFIX = "st_";
    private static final Pattern SHAPE = Pattern.compile("st_[A-Za-z0-9_-]{43}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Optional<Redis> redis;

    /** The answer to {@code POST /api/usage/stream/ticket}. */
    public record StreamTicket(String ticket, long expiresIn) {}

    /**
     * What Redis keeps for a ticket: the caller, as its access token described it (its key id and times,
     * re-checked for revocation), and that token's {@code exp} (epoch seconds), at which a stream opened
     * with the ticket ends.
     */
    record Holder(String clientId, String role, String scope, String plan, String akh, long iat, Long exp) {}

    public StreamTickets(Optional<Redis> redis) {
        this.redis = redis;
    }

    /** A ticket for {@code caller}, whose access token expires at {@code tokenExpiresAt}. */
    public StreamTicket issue(Principal caller, Instant tokenExpiresAt) {
        if (!caller.has(Principal.SCOPE_USAGE_READ)) throw ApiException.forbidden("This credential may not read usage.");
        long untilExpiry = Duration.between(Instant.now(), tokenExpiresAt).toSeconds();
        if (untilExpiry <= 0) throw ApiException.unauthorized("The access token is invalid or expired.");
        // A ticket never outlives the token it stands for.
        long ttl = Math.min(TTL.toSeconds(), untilExpiry);
        Redis r = redis();
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        String ticket = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String holder = new String(Json.write(new Holder(caller.clientId(), caller.role().wireName(),
                String.join(" ", caller.scopes().stream().sorted().toList()), caller.plan(),
                caller.akh(), caller.iat(), tokenExpiresAt.getEpochSecond())), StandardCharsets.UTF_8);
        try {
            r.call(c -> c.set(key(r, ticket), holder, SetArgs.Builder.ex(ttl).nx()));
        } catch (Redis.UnavailableException e) {
            throw unavailable();
        }
        return new StreamTicket(ticket, ttl);
    }

    /** The caller the ticket was issued to, with its token's expiry; the ticket is spent either way. */
    public StreamCredential redeem(String ticket) {
        if (ticket == null || !SHAPE.matcher(ticket).matches()) throw invalid();
        Redis r = redis();
        String holder;
        try {
            holder = r.call(c -> c.getdel(key(r, ticket)));
        } catch (Redis.UnavailableException e) {
            throw unavailable();
        }
        if (holder == null) throw invalid();
        Holder h = Json.read(holder.getBytes(StandardCharsets.UTF_8), Holder.class);
        // A ticket without the token's expiry (issued before streams ended at exp) is refused like a spent one.
        if (h.exp() == null || !Instant.ofEpochSecond(h.exp()).isAfter(Instant.now())) throw invalid();
        Set<String> scopes = Arrays.stream(h.scope().split(" ")).filter(s -> !s.isBlank()).collect(Collectors.toUnmodifiableSet());
        // the key and token times travel with the ticket: the stream re-checks them (revocation)
        return new StreamCredential(new Principal(h.clientId(), Role.fromWire(h.role()), scopes, h.plan(), h.akh(), h.iat(), h.exp()),
                Instant.ofEpochSecond(h.exp()));
    }

    private Redis redis() {
        return redis.orElseThrow(StreamTickets::unavailable);
    }

    private static String key(Redis redis, String ticket) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(ticket.getBytes(StandardCharsets.US_ASCII));
            return redis.key("stream", "ticket", HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ApiException invalid() {
        return ApiException.unauthorized("The stream ticket is invalid, expired or already used; ask for a new one "
                + "(POST /api/usage/stream/ticket).");
    }

    private static ApiException unavailable() {
        return ApiException.unavailable("Live streams are unavailable right now; retry later.", 5);
    }
}
