package dev.usagetracker.local;

import dev.usagetracker.App;
import dev.usagetracker.config.AwsClients;
import dev.usagetracker.config.Config;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The real local services, started once per test JVM on free ports (ElasticMQ, moto_server,
 * redis-server) with template.yaml's resources created in them, and stopped when the run ends.
 * Use with {@code @ExtendWith(TestStack.Extension.class)} and take a {@code TestStack} parameter.
 */
public final class TestStack implements AutoCloseable {
    public static final Path PROJECT_ROOT = Path.of(System.getProperty("project.root", "..")).toAbsolutePath().normalize();

    private final Emulators emulators;
    private final ResourceBootstrap resources;
    private final Map<String, String> environment;
    private final DynamoDbClient dynamo;
    private final SqsClient sqs;
    private final KmsClient kms;

    private TestStack() {
        emulators = Emulators.start(logs(), 0, 0, 0);
        Map<String, String> env = emulators.clientEnvironment("test");
        Config boot = Config.from(env);
        dynamo = AwsClients.dynamo(boot);
        // The tests long-poll (1 s), longer than the functions' 1 s SQS attempt timeout.
        Map<String, String> longPoll = new HashMap<>(env);
        longPoll.put("AWS_SDK_ATTEMPT_TIMEOUT_MS_SQS", "5000");
        longPoll.put("AWS_SDK_CALL_TIMEOUT_MS_SQS", "10000");
        sqs = AwsClients.sqs(Config.from(longPoll));
        kms = AwsClients.kms(boot);
        SamTemplate template = SamTemplate.load(PROJECT_ROOT.resolve("template.yaml"));
        resources = new ResourceBootstrap(template, "", Map.of("Stage", "test", "RedisUrl", emulators.redisUrl()))
                .create(kms, dynamo, sqs, 0);
        env.putAll(resources.environment(template.functions().getFirst()));
        environment = Map.copyOf(env);
    }

    /**
     * Where this JVM's emulators write their logs: {@code local/target/emulator-logs}, in a directory of
     * its own per surefire fork ({@code fork-N}), so that forks running side by side never share a log file.
     */
    static Path logs() {
        Path logs = PROJECT_ROOT.resolve("local/target/emulator-logs");
        String fork = System.getProperty("test.fork", "");  // local/pom.xml: fork-N
        return fork.matches("fork-[0-9]+") ? logs.resolve(fork) : logs;
    }

    public Emulators emulators() { return emulators; }
    public ResourceBootstrap resources() { return resources; }
    public KmsClient kms() { return kms; }
    /** What a function container sees: endpoints, credentials, table/queue/key names. */
    public Map<String, String> environment() { return environment; }
    public Config config() { return Config.from(environment); }
    public DynamoDbClient dynamo() { return dynamo; }
    public SqsClient sqs() { return sqs; }

    /** A fresh composition root against the real services, as a function container would build it. */
    public App app(Clock clock) {
        return new App(config(), clock);
    }

    @Override
    public void close() {
        dynamo.close();
        sqs.close();
        kms.close();
        emulators.close();
    }

    /** Starts the stack on first use and closes it when the whole test run ends. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == TestStack.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            return c.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                    .getOrComputeIfAbsent("test-stack", k -> new Holder(new TestStack()), Holder.class).stack;
        }
    }

    private record Holder(TestStack stack) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            stack.close();
        }
    }
}
