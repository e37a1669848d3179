package dev.usagetracker.bench;

import java.util.List;

/**
 * bench/sdk-node: the TypeScript SDK (sdk/typescript) against the local runtime. Starts the stack, registers
 * a client and runs {@code sdk/typescript/bench/bench.mjs}, which measures {@code record()} on the caller over
 * ≥ 1,000,000 calls and the requests per 1,000 hits of the SDK next to single-hit posting; then checks that
 * /api/usage/daily counts exactly what was acknowledged.
 */
public final class NodeSdkBench {
    private NodeSdkBench() {}

    public static void main(String[] args) throws Exception {
        ExternalSdkBench.run("bench/sdk-node", "sdkn-", BenchStack.projectRoot().resolve("sdk/typescript"),
                List.of("node", "bench/bench.mjs"), ExternalSdkBench.callsOption(args));
    }
}
