package dev.usagetracker.functions;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.usagetracker.App.Warmup;
import dev.usagetracker.ingest.IdempotencyKey;
import dev.usagetracker.ingest.IngestRequest;
import dev.usagetracker.ingest.IngestService;
import dev.usagetracker.http.ApiGateway;
import dev.usagetracker.http.Responses;
import dev.usagetracker.ratelimit.RateLimitGuard;
import java.util.Optional;

/** POST /api/logs: one hit or a batch → 202 once every hit is durable; an Idempotency-Key makes retries safe. */
public final class IngestHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
    private final IngestRequest.Parser parser;
    private final IngestService ingest;
    private final RateLimitGuard rateLimits;

    public IngestHandler() {
        this(Container.app().ingestRequestParser(), Container.app().ingest(), Container.app().rateLimits());
        Container.app().prime(Warmup.KEY_HASH, Warmup.CLIENT_READ, Warmup.PUBLIC_KEY, Warmup.QUEUE, Warmup.JSON);
    }

    public IngestHandler(IngestRequest.Parser parser, IngestService ingest, RateLimitGuard rateLimits) {
        this.parser = parser;
        this.ingest = ingest;
        this.rateLimits = rateLimits;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return ApiGateway.serve(event, request -> {
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
        });
    }
}
