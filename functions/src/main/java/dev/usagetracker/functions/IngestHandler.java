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
import dev.usagetracker.ratelimit.RouteClass;

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
            // A replay of an acknowledged request (same Idempotency-Key and body) counts nothing new and
            // is not charged again: a client retrying after a lost answer must not be pushed into 429.
            var replay = ingest.acknowledgedReplay(hits.principal(), IdempotencyKey.from(request));
            if (replay.isPresent()) return Responses.json(202, replay.get());
            // n hits cost n units, taken before anything is queued: a refused batch leaves no trace
            return rateLimits.forClient(hits.principal(), RouteClass.INGEST, hits.hits().size(), hits.serverErrors(),
                    () -> Responses.json(202, ingest.accept(hits.principal(), hits.hits(), IdempotencyKey.from(request))));
        });
    }
}
