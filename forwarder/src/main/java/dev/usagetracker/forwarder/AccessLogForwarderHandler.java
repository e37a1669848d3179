package dev.usagetracker.forwarder;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.CloudWatchLogsEvent;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The Lambda entry point, subscribed to an API Gateway access-log group: decode the payload, forward its hits,
 * return what it did. Built once per container from the environment (the HTTP client, the key source); the
 * key itself is read on the first invocation. An invocation that could not deliver everything throws, so
 * Lambda retries it with the same payload (asynchronous invocations: twice, then the on-failure destination).
 */
public final class AccessLogForwarderHandler implements RequestHandler<CloudWatchLogsEvent, ForwardResult> {
    private final LogForwarder forwarder;
    private final Duration margin;
    private final Clock clock;
    private final Consumer<String> log;

    public AccessLogForwarderHandler() {
        this(System.getenv(), Clock.systemUTC(), System.out::println);
    }

    public AccessLogForwarderHandler(Map<String, String> env, Clock clock, Consumer<String> log) {
        ForwarderSettings settings = ForwarderSettings.from(env);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        IngestClient client = new IngestClient(http, settings.baseUrl(), ApiKeySource.fromEnvironment(env),
                settings.requestTimeout(), clock);
        this.forwarder = new LogForwarder(new AccessLogParser(settings.mapping()), client, settings.maxBatchHits(),
                settings.concurrency(), log);
        this.margin = settings.deadlineMargin();
        this.clock = clock;
        this.log = log;
    }

    @Override
    public ForwardResult handleRequest(CloudWatchLogsEvent event, Context context) {
        String data = event == null || event.getAwsLogs() == null ? null : event.getAwsLogs().getData();
        SubscriptionPayload payload = SubscriptionPayload.decode(data);
        Instant deadline = clock.instant().plusMillis(context.getRemainingTimeInMillis()).minus(margin);
        try {
            ForwardResult result = forwarder.forward(payload, deadline);
            log.accept("{\"level\":\"INFO\",\"message\":\"forwarded\",\"log_group\":" + json(payload.logGroup())
                    + ",\"result\":" + result + "}");
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IngestClient.Incomplete("interrupted");
        } catch (RuntimeException e) {
            log.accept("{\"level\":\"ERROR\",\"message\":\"forwarding incomplete; the invocation fails so Lambda retries it\",\"log_group\":"
                    + json(payload.logGroup()) + ",\"error\":" + json(e.getMessage()) + "}");
            throw e;
        }
    }

    private static String json(String s) {
        return new com.fasterxml.jackson.databind.node.TextNode(s == null ? "" : s).toString();
    }
}
