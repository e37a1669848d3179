package dev.usagetracker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.usagetracker.local.LocalRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * What bench/sdk-node and bench/sdk-python share: start the stack, register a client, run the SDK's own bench
 * script with BASE_URL, API_KEY and RESULT_FILE (where it writes the hits it saw acknowledged), then check that
 * /api/usage/daily counts exactly those.
 */
final class ExternalSdkBench {
    private ExternalSdkBench() {}

    static void run(String label, String prefix, Path directory, List<String> command, Map<String, String> environment)
            throws Exception {
        Machine.print(System.out, label);
        try (BenchStack stack = BenchStack.start(prefix)) {
            String adminKey = "ut_" + prefix.replace("-", "") + "_bench_admin_" + UUID.randomUUID().toString().substring(0, 8);
            try (LocalRuntime runtime = stack.runtime(BenchStack.emulatorTimeoutsAnd("AUTH_CACHE_SECONDS", "600"), adminKey,
                    Optional.empty(), false)) {
                Api api = new Api(runtime.baseUrl());
                String run = UUID.randomUUID().toString().substring(0, 6);
                JsonNode client = api.register("SDK bench " + run, prefix + run + "@example.com");
                Path result = Files.createTempFile(prefix + "bench", ".json");
                ProcessBuilder pb = new ProcessBuilder(command).directory(directory.toFile()).inheritIO();
                pb.environment().putAll(environment);
                pb.environment().put("BASE_URL", runtime.baseUrl());
                pb.environment().put("API_KEY", client.get("api_key").asText());
                pb.environment().put("RESULT_FILE", result.toString());
                int exit = pb.start().waitFor();
                if (exit != 0) throw new IllegalStateException(String.join(" ", command) + " exited with " + exit);
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

    /** {@code --calls N} as RECORD_CALLS, the record() sample size of both SDK bench scripts. */
    static Map<String, String> callsOption(String[] args) {
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--calls")) return Map.of("RECORD_CALLS", args[i + 1]);
        }
        return Map.of();
    }
}
