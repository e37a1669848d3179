package dev.usagetracker.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.auth.Authenticator;
import dev.usagetracker.auth.Principal;
import dev.usagetracker.http.HttpRequest;
import dev.usagetracker.http.Json;
import java.util.List;
import java.util.Optional;

/** A parsed, authenticated and validated {@code POST /api/logs}. */
public record IngestRequest(Principal principal, List<Hit> hits) {

    /** Hits whose status is 5xx: a plan whose quota counts non_5xx does not charge them. */
    public int serverErrors() {
        int n = 0;
        for (Hit hit : hits) if (HitOutcome.statusClass(hit.status()) == HitOutcome.SERVER_ERROR) n++;
        return n;
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
                return new IngestRequest(principal, validator.validate(batch.hits(), "hits"));
            }
            SingleHitRequest single = Json.bind(body, SingleHitRequest.class);
            Principal principal = authenticator.apiKeyOrBearer(request, Optional.ofNullable(single.apiKey()));
            return new IngestRequest(principal,
                    validator.validate(List.of(single.hit()), ""));
        }
    }
}
