package dev.usagetracker.ingest;

import dev.usagetracker.clients.Cidr;
import dev.usagetracker.http.ApiException;
import dev.usagetracker.http.ApiException.FieldError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** The edge rules for hits (DESIGN.md §2): every broken field is reported, none is guessed. */
public final class HitValidator {
    public static final int MAX_BATCH = 500;
    public static final int MAX_ENDPOINT_LENGTH = 2048;
    static final Duration MAX_FUTURE = Duration.ofMinutes(5);

    private final Clock clock;
    private final Duration retention;

    public HitValidator(Clock clock, Duration retention) {
        this.clock = clock;
        this.retention = retention;
    }

    public List<Hit> validate(List<HitFields> input, String pathPrefix) {
        return validate(input, pathPrefix, clock.instant());
    }

    /** As of {@code now}: the bounds are relative to it, and a hit without a timestamp takes it. */
    public List<Hit> validate(List<HitFields> input, String pathPrefix, Instant now) {
        List<FieldError> errors = new ArrayList<>();
        if (input == null || input.isEmpty()) {
            throw ApiException.validation(List.of(new FieldError("hits", "must hold 1 to " + MAX_BATCH + " hits")));
        }
        if (input.size() > MAX_BATCH) {
            throw ApiException.validation(List.of(new FieldError("hits", "must hold at most " + MAX_BATCH + " hits")));
        }
        List<Hit> hits = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) {
            String at = pathPrefix.isEmpty() ? "" : pathPrefix + "[" + i + "].";
            HitFields f = input.get(i);
            if (f == null) {
                errors.add(new FieldError(pathPrefix + "[" + i + "]", "must be an object"));
                continue;
            }
            int before = errors.size();
            String ip = null;
            if (f.ip() == null) errors.add(new FieldError(at + "ip", "is required"));
            else {
                var address = Cidr.parseAddress(f.ip());
                if (address.isEmpty()) errors.add(new FieldError(at + "ip", "must be an IPv4 or IPv6 address"));
                else ip = address.get().getHostAddress();
            }
            if (f.endpoint() == null) errors.add(new FieldError(at + "endpoint", "is required"));
            else if (!isPath(f.endpoint())) {
                errors.add(new FieldError(at + "endpoint",
                        "must be a path starting with '/', at most " + MAX_ENDPOINT_LENGTH + " characters, without spaces or control characters"));
            }
            Instant timestamp = now;
            if (f.timestamp() != null) {
                try {
                    timestamp = OffsetDateTime.parse(f.timestamp()).toInstant();
                    if (timestamp.isAfter(now.plus(MAX_FUTURE))) {
                        errors.add(new FieldError(at + "timestamp", "must not be more than 5 minutes in the future"));
                    } else if (timestamp.isBefore(now.minus(retention))) {
                        errors.add(new FieldError(at + "timestamp", "must not be older than the retention window of "
                                + retention.toDays() + " days"));
                    }
                } catch (DateTimeParseException e) {
                    errors.add(new FieldError(at + "timestamp", "must be an ISO-8601 date-time with an offset, e.g. 2026-01-31T12:00:00Z"));
                }
            }
            HitOutcome outcome = HitOutcome.of(f, at, errors);
            if (errors.size() == before) {
                hits.add(new Hit(timestamp.truncatedTo(ChronoUnit.MILLIS), ip, f.endpoint(),
                        outcome.method(), outcome.status(), outcome.durationMs()));
            }
        }
        if (!errors.isEmpty()) throw ApiException.validation(errors);
        return hits;
    }

    static boolean isPath(String endpoint) {
        if (endpoint.isEmpty() || endpoint.length() > MAX_ENDPOINT_LENGTH || endpoint.charAt(0) != '/') return false;
        return endpoint.codePoints().noneMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c)
                || Character.getType(c) == Character.FORMAT);
    }
}
