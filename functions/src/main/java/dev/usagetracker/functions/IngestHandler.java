package dev.usagetracker.functions;

import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ingest.IdempotencyKey;
import dev.usagetracker.ingest.IngestRequest;
import dev.usagetracker.ingest.IngestService;
import dev.usagetracker.ratelimit.RateLimitGuard;
import dev.usagetracker.wiring.Warmup;
import java.util.Optional;

/** POST /api/logs: one hit or a batch → 202 once every hit is durable; an Idempotency-Key makes retries safe. */
public final class IngestHandler extends RouteHandler {
    public IngestHandler() {
        super(route(Container.app().ingest().requestParser(), Container.app().ingest().service(), Container.app().plans().rateLimits()),
                Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.QUEUE, Warmup.JSON);
    }

    public IngestHandler(IngestRequest.Parser parser, IngestService ingest, RateLimitGuard rateLimits) {
        super(route(parser, ingest, rateLimits));
    }

    /** Not a declared {@link dev.usagetracker.route.Route}: a request costs its hits, known once they are admitted. */
    static ApiGateway.Route route(IngestRequest.Parser parser, IngestService ingest, RateLimitGuard rateLimits) {
        return request -> {
            IngestRequest hits = parser.parse(request);
            Optional<IdempotencyKey> key = IdempotencyKey.from(request);
            // A keyed retry of a request that claimed its key already is answered first, before the time-
            // dependent validation and every gate: it counts nothing new, and the hits it carries were
            // charged when they were first admitted, so a client retrying after a lost answer never hears
            // 400 or 429 about hits that were counted.
            var replay = ingest.replay(hits, key);
            if (replay.isPresent()) return Responses.json(202, replay.get());
            IngestService.Admitted admitted = ingest.admit(hits, key);
            // n hits cost n units, taken before anything is queued: a refused batch leaves no trace
            return rateLimits.forIngest(hits.principal(), admitted.hitsByMonth(), admitted.serverErrorsByMonth(),
                    () -> Responses.json(202, ingest.accept(admitted)));
        };
    }
}
