package dev.usagetracker.local;

import java.nio.file.Path;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Starts a {@link ChaosStack} for a test class, once more when its resources could not be created in time.
 * The runtime creates the stack's queues and tables through the functions' own clients and timeouts (2 s per
 * SQS call): a class that comes first in a fresh test JVM, beside another fork on a loaded 2-core machine,
 * can see the very first call to a cold ElasticMQ time out. That is the set-up failing, not what the class
 * tests; a second start, on new emulators, happens in a JVM that is no longer cold. Any other failure, or a
 * second timeout, fails the class as before.
 */
final class ChaosStacks {
    private ChaosStacks() {}

    static ChaosStack start(String logs, int retryBaseSeconds, int visibilityTimeoutSeconds, Map<String, String> environment)
            throws Exception {
        Path dir = TestStack.PROJECT_ROOT.resolve("local/target/emulator-logs").resolve(logs);
        try {
            return ChaosStack.start(TestStack.PROJECT_ROOT, dir, retryBaseSeconds, visibilityTimeoutSeconds, environment);
        } catch (SdkClientException first) {
            System.err.println("the stack's set-up timed out on a cold JVM, starting it again: " + first);
            return ChaosStack.start(TestStack.PROJECT_ROOT, dir.resolve("second-start"), retryBaseSeconds, visibilityTimeoutSeconds,
                    environment);
        }
    }
}
