package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.LocalRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * bench/sdk-node: the TypeScript SDK (sdk/typescript) against the local runtime. Starts the stack, registers
 * a client and runs {@code sdk/typescript/bench/bench.mjs}, which measures {@code record()} on the caller over
 * ≥ 1,000,000 calls and the requests per 1,000 hits of the SDK next to single-hit posting; then checks that
 * /api/usage/daily counts exactly what was acknowledged.
 */
public final class NodeSdkBench {
    private NodeSdkBench() {}

    public static void main(String[] args) throws Exception {
        Path root = BenchStack.projectRoot();
        Path sdk = root.resolve("sdk/typescript");
        Machine.print(System.out, "bench/sdk-node");
        try (BenchStack stack = BenchStack.start("sdkn-")) {
            String adminKey = "ut_sdk_node_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            try (LocalRuntime runtime = stack.runtime(BenchStack.emulatorTimeoutsAnd("AUTH_CACHE_SECONDS", "600"), adminKey,
                    Optional.empty(), false)) {
                Api api = new Api(runtime.baseUrl());
                String run = UUID.randomUUID().toString().substring(0, 6);
                JsonNode client = api.register("SDK bench " + run, "sdk-node-" + run + "@example.com");
                Path result = Files.createTempFile("sdk-node-bench", ".json");
                ProcessBuilder pb = new ProcessBuilder(List.of("node", "bench/bench.mjs")).directory(sdk.toFile()).inheritIO();
                pb.environment().put("BASE_URL", runtime.baseUrl());
                pb.environment().put("API_KEY", client.get("api_key").asText());
                pb.environment().put("RESULT_FILE", result.toString());
                for (int i = 0; i + 1 < args.length; i += 2) {
                    if (args[i].equals("--calls")) pb.environment().put("RECORD_CALLS", args[i + 1]);
                }
                int exit = pb.start().waitFor();
                if (exit != 0) throw new IllegalStateException("bench/bench.mjs exited with " + exit);
                long acknowledged = Api.MAPPER.readTree(Files.readString(result)).get("acknowledged").asLong();
                Files.deleteIfExists(result);

                // the consumer drains SQS into DynamoDB: wait until /daily holds still at the acknowledged count
                String token = api.token(client.get("api_key").asText());
                long counted = -1;
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (System.nanoTime() < deadline) {
                    Api.Reply daily = api.get("/api/usage/daily?days=2", Api.bearer(token));
                    counted = daily.json().get("clients").get(0).get("total").asLong();
                    if (counted >= acknowledged) break;
                    Thread.sleep(1_000);
                }
                System.out.printf("%nserver: /api/usage/daily counts %,d of %,d hits acknowledged (SDK and single-hit) — %s%n",
                        counted, acknowledged, counted == acknowledged ? "exact" : "MISMATCH");
                System.exit(counted == acknowledged ? 0 : 1);
            }
        }
    }
}
