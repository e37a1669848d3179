package dev.usagetracker.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * bench/sdk-python: the Python SDK (sdk/python) against the local runtime. Starts the stack, registers a client
 * and runs {@code sdk/python/bench/bench.py} with Debian's python3, which measures {@code record()} on the
 * caller's thread over ≥ 1,000,000 calls and the requests per 1,000 hits of the SDK at steady loads next to
 * single-hit posting; then checks that /api/usage/daily counts exactly what was acknowledged.
 */
public final class PythonSdkBench {
    private PythonSdkBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> environment = new HashMap<>(ExternalSdkBench.callsOption(args));
        environment.put("PYTHONPATH", "src");
        ExternalSdkBench.run("bench/sdk-python", "sdkp-", BenchStack.projectRoot().resolve("sdk/python"),
                List.of("/usr/bin/python3", "bench/bench.py"), environment);
    }
}
