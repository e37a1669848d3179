package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.usagetracker.forwarder.SubscriptionPayload;
import dev.usagetracker.local.ForwarderJar;
import dev.usagetracker.local.LocalRuntime;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterType;

/**
 * The access-log forwarder (forwarder/target/forwarder.jar, in a class loader of its own) against the local
 * runtime: payloads of access-log lines in the HTTP API format of docs/forwarder.md, as CloudWatch Logs
 * delivers them. Prints lines per second per invocation, requests per 1,000 hits, the bytes CloudWatch Logs
 * bills per line, the service's measured requests and capacity, and dollars per million hits on this path.
 * Options: --lines N (20000), --per-payload N (1000), --smoke.
 */
public final class ForwarderBench {
    private ForwarderBench() {}

    /** CloudWatch Logs bills each event's UTF-8 message plus 26 bytes. */
    static final int CLOUDWATCH_EVENT_OVERHEAD = 26;
    static final double CLOUDWATCH_INGEST_PER_GB = 0.50;
    static final double FORWARDER_GB = 0.5;

    public static void main(String[] args) throws Exception {
        int lines = 20_000, perPayload = 1_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--lines" -> lines = Integer.parseInt(args[++i]);
                case "--per-payload" -> perPayload = Integer.parseInt(args[++i]);
                case "--smoke" -> { lines = 1_000; perPayload = 500; }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--lines --per-payload --smoke)");
            }
        }
        System.exit(run(lines, perPayload, System.out) ? 0 : 1);
    }

    static boolean run(int lines, int perPayload, PrintStream out) throws Exception {
        Counters.enable();
        Machine.print(out, "bench/forwarder");
        out.println("note: the service runs on moto_server and ElasticMQ here; invocation times include its answers,"
                + " requests and capacity per hit are what AWS would bill.");
        try (BenchStack stack = BenchStack.start("fwd-")) {
            String adminKey = "ut_fwd_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            try (LocalRuntime runtime = stack.runtime(BenchStack.emulatorTimeoutsAnd(), adminKey, java.util.Optional.empty(), true)) {
                Api api = new Api(runtime.baseUrl());
                String adminToken = api.token(adminKey);
                var client = api.register("Forwarder bench", "fwd-" + UUID.randomUUID().toString().substring(0, 6) + "@example.com");
                String clientId = client.get("client_id").asText();
                Map<String, String> env = forwarderEnvironment(stack, runtime, client.get("api_key").asText());

                List<String> payloads = new ArrayList<>();
                long messageBytes = 0, payloadBytes = 0;
                long now = System.currentTimeMillis();
                ObjectMapper json = new ObjectMapper();
                for (int p = 0; p * perPayload < lines; p++) {
                    List<SubscriptionPayload.LogEvent> events = new ArrayList<>();
                    for (int i = p * perPayload; i < Math.min(lines, (p + 1) * perPayload); i++) {
                        Map<String, String> line = new LinkedHashMap<>();
                        line.put("requestId", UUID.randomUUID().toString());
                        line.put("ip", "203.0.113." + (i % 250 + 1));
                        line.put("requestTimeEpoch", Long.toString(now - lines + i));
                        line.put("routeKey", i % 2 == 0 ? "GET /api/users/{id}" : "POST /api/orders");
                        line.put("httpMethod", i % 2 == 0 ? "GET" : "POST");
                        line.put("path", i % 2 == 0 ? "/api/users/" + i : "/api/orders");
                        line.put("status", i % 10 == 0 ? "500" : "200");
                        line.put("responseLatency", Integer.toString(10 + i % 90));
                        String message = json.writeValueAsString(line);
                        messageBytes += message.getBytes(StandardCharsets.UTF_8).length;
                        events.add(new SubscriptionPayload.LogEvent(String.format("%056d", 3_795_648_710_930_124L * 1000 + i), now, message));
                    }
                    String payload = new SubscriptionPayload("DATA_MESSAGE", "123456789012", "/aws/apigateway/bench", "s-" + p, events).encode();
                    payloadBytes += payload.length();
                    payloads.add(payload);
                }

                var before = Counters.snapshot();
                long indexedBefore = UsageIndexWrites.indexedItems(stack.dynamo(), stack.table("UsageTable"));
                long invocations0 = runtime.pools().get("IngestFunction").invocations();
                List<Double> invocationMs = new ArrayList<>();
                long accepted = 0, requests = 0;
                try (ForwarderJar forwarder = new ForwarderJar(ForwarderJar.jar(stack.root), env)) {
                    forwarder.invoke(new SubscriptionPayload("CONTROL_MESSAGE", "CloudwatchLogs", "g", "s", List.of()).encode(),
                            Duration.ofSeconds(60));  // the container's first call: class loading, not measured
                    for (String payload : payloads) {
                        long t0 = System.nanoTime();
                        Map<String, Integer> r = forwarder.invoke(payload, Duration.ofSeconds(60));
                        invocationMs.add((System.nanoTime() - t0) / 1e6);
                        accepted += r.get("accepted");
                        requests += r.get("requests");
                    }
                }
                long counted = SdkBench.await(api, adminToken, clientId, accepted);
                long sent = runtime.pools().get("IngestFunction").invocations() - invocations0;
                var aws = SdkBench.ingestOnly(Counters.diff(Counters.snapshot(), before));
                SdkBench.Costs service = SdkBench.costs("forwarder", accepted, sent, aws, stack, indexedBefore);
                Stats ms = Stats.of(invocationMs);

                double bytesPerLine = (double) messageBytes / lines;
                out.printf(Locale.ROOT, "%n%,d access-log lines in %d payloads of %,d (%.0f bytes per line, %.0f bytes per line in the gzip+base64 payload)%n",
                        lines, payloads.size(), perPayload, bytesPerLine, (double) payloadBytes / lines);
                out.printf(Locale.ROOT, "invocation: %.0f ms median, %.0f ms max → %,.0f lines/s per invocation (median); %d requests sent"
                                + " (%.2f per 1,000 hits); accepted %,d, counted %,d%n",
                        ms.median(), ms.max(), perPayload / (ms.median() / 1000), requests, requests * 1000.0 / accepted, accepted, counted);
                SdkBench.printCosts(out, List.of(service));
                double cloudWatch = (bytesPerLine + CLOUDWATCH_EVENT_OVERHEAD) * 1e6 / 1e9 * CLOUDWATCH_INGEST_PER_GB;
                double invocationsPerHit = 1.0 / perPayload;
                double forwarderLambda = invocationsPerHit * 1e6 * (0.20 / 1e6 + FORWARDER_GB * ms.median() / 1000 * 0.0000133334);
                double total = cloudWatch + forwarderLambda + service.dollarsPerMillion()[6];
                out.printf(Locale.ROOT, "%nper million hits on this path: CloudWatch Logs ingestion $%.3f ((%.0f + %d) bytes per line × $%.2f/GB)"
                                + " + forwarder Lambda $%.3f (%,.0f invocations of %.0f ms at %.1f GB) + usage-tracker $%.3f = $%.2f%n",
                        cloudWatch, bytesPerLine, CLOUDWATCH_EVENT_OVERHEAD, CLOUDWATCH_INGEST_PER_GB, forwarderLambda,
                        invocationsPerHit * 1e6, ms.median(), FORWARDER_GB, service.dollarsPerMillion()[6], total);
                out.println("  (CloudWatch's part is paid once per access line whether or not it is forwarded; the forwarder's duration here"
                        + " includes the local service's answers, an upper bound for AWS)");
                boolean exact = counted == accepted && accepted == lines;
                out.println(exact ? "counted exactly" : "MISMATCH: accepted " + accepted + " of " + lines + ", counted " + counted);
                return exact;
            }
        }
    }

    /** The forwarder's environment as its template sets it, its key in an SSM SecureString in moto_server. */
    static Map<String, String> forwarderEnvironment(BenchStack stack, LocalRuntime runtime, String apiKey) {
        Map<String, String> aws = stack.emulators.clientEnvironment("bench");
        String parameter = "/usage-tracker/bench/api-key";
        try (SsmClient ssm = SsmClient.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(URI.create(stack.emulators.awsEndpoint())).region(Region.of(aws.get("AWS_REGION")))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(aws.get("AWS_ACCESS_KEY_ID"),
                        aws.get("AWS_SECRET_ACCESS_KEY")))).build()) {
            ssm.putParameter(r -> r.name(parameter).type(ParameterType.SECURE_STRING).value(apiKey).overwrite(true));
        }
        Map<String, String> env = new HashMap<>();
        env.put("USAGE_TRACKER_URL", runtime.baseUrl());
        env.put("API_KEY_PARAMETER", parameter);
        env.put("AWS_REGION", aws.get("AWS_REGION"));
        env.put("AWS_ACCESS_KEY_ID", aws.get("AWS_ACCESS_KEY_ID"));
        env.put("AWS_SECRET_ACCESS_KEY", aws.get("AWS_SECRET_ACCESS_KEY"));
        env.put("AWS_ENDPOINT_URL_SSM", stack.emulators.awsEndpoint());
        return env;
    }
}
