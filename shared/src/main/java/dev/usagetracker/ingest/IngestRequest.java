package dev.usagetracker.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Json;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A parsed and authenticated {@code POST /api/logs} whose hits are validated only when the receive time
 * they are judged against is known: a keyed retry is judged as of its first attempt (the key's
 * {@code received_at}), so the time-dependent rules (retention window, future skew) give a retry the
 * first attempt's answer, and a hit without a timestamp takes that same instant on every attempt.
 */
public final class IngestRequest {
    private final Principal principal;
    private final List<HitFields> fields;
    private final String pathPrefix;
    private final HitValidator validator;

    IngestRequest(Principal principal, List<HitFields> fields, String pathPrefix, HitValidator validator) {
        this.principal = principal;
        this.fields = fields;
        this.pathPrefix = pathPrefix;
        this.validator = validator;
    }

    public Principal principal() {
        return principal;
    }

    /** How many hits the request carries (what the ingest_hits limit charges), valid or not. */
    public int size() {
        return fields == null ? 0 : fields.size();
    }

    /** The hits validated as of {@code receivedAt}; 400 naming every broken field. */
    public List<Hit> hits(Instant receivedAt) {
        return validator.validate(fields, pathPrefix, receivedAt);
    }

    /**
     * Order matters: size and media type, then JSON syntax, then credentials (a key may be in the
     * body), and only then the hits, so an anonymous caller learns nothing about validation.
     */
    public static final class Parser {
        private final Authenticator authenticator;
        private final HitValidator validator;

        public Parser(Authenticator authenticator, HitValidator validator) {
            this.authenticator = authenticator;
            this.validator = validator;
        }

        public IngestRequest parse(HttpRequest request) {
            JsonNode body = request.jsonBody().node();
            if (body.has("hits")) {
                BatchHitRequest batch = Json.bind(body, BatchHitRequest.class);
                Principal principal = authenticator.apiKeyOrBearer(request, Optional.ofNullable(batch.apiKey()));
                return new IngestRequest(principal, batch.hits(), "hits", validator);
            }
            SingleHitRequest single = Json.bind(body, SingleHitRequest.class);
            Principal principal = authenticator.apiKeyOrBearer(request, Optional.ofNullable(single.apiKey()));
            return new IngestRequest(principal,
                    List.of(single.hit()), "", validator);
        }
    }
}
