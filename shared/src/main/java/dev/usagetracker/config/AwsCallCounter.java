package dev.usagetracker.config;

import dev.usagetracker.store.DynamoCapacity;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import javax.management.JMException;
import javax.management.ObjectName;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Counts every AWS call a container makes — calls, HTTP attempts, failures — and, for DynamoDB, the
 * capacity each call consumes by DynamoDB's rules ({@link DynamoCapacity}). Off unless
 * {@code COUNT_AWS_CALLS=true} (or the JVM property {@code usagetracker.countAwsCalls=true}); when off,
 * no interceptor is installed at all. The totals are published as a platform MBean
 * {@code dev.usagetracker:type=AwsCalls,function=…,id=…}, which is how bench/ reads them across the
 * local runtime's per-container class loaders.
 */
public final class AwsCallCounter implements ExecutionInterceptor, AwsCallCounterMBean {
    public static final String ENV = "COUNT_AWS_CALLS";
    public static final String PROPERTY = "usagetracker.countAwsCalls";
    private static volatile AwsCallCounter instance;

    private final Map<String, DoubleAdder> totals = new ConcurrentHashMap<>();

    private AwsCallCounter() {}

    public static boolean enabled() {
        return Boolean.getBoolean(PROPERTY) || "true".equalsIgnoreCase(LambdaEnvironment.get().get(ENV));
    }

    /** One counter per container (class loader), registered once. */
    public static synchronized AwsCallCounter instance() {
        if (instance == null) {
            AwsCallCounter counter = new AwsCallCounter();
            String function = LambdaEnvironment.get().getOrDefault("AWS_LAMBDA_FUNCTION_NAME", "process");
            try {
                ManagementFactory.getPlatformMBeanServer().registerMBean(counter, new ObjectName(
                        "dev.usagetracker:type=AwsCalls,function=" + ObjectName.quote(function)
                                + ",id=" + System.identityHashCode(counter)));
            } catch (JMException e) {
                throw new IllegalStateException("cannot publish the AWS call counter", e);
            }
            instance = counter;
        }
        return instance;
    }

    @Override
    public Map<String, Double> getTotals() {
        Map<String, Double> copy = new TreeMap<>();
        totals.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        add(key(attributes) + ".attempts", 1);
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        String key = key(attributes);
        add(key + ".calls", 1);
        if ("DynamoDb".equalsIgnoreCase(attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME))) {
            DynamoCapacity.Units units = DynamoCapacity.of(context.request(), context.response());
            add(key + ".wru", units.writeUnits());
            add(key + ".rru", units.readUnits());
            add(key + ".items_read", units.itemsRead());
            add(key + ".items_written", units.itemsWritten());
            units.itemsWrittenByTable().forEach((table, n) -> add("DynamoDb.items_written." + table, n));
        }
        // An empty receive is a poller waiting on an idle queue: a cost per poller and hour, not per hit. By field
        // name, not by type: a function jar without the SQS client has no ReceiveMessageResponse class to load.
        if ("ReceiveMessage".equals(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME))
                && context.response().getValueForField("Messages", java.util.List.class).map(java.util.List::isEmpty).orElse(true)) {
            add(key + ".empty", 1);
        }
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        add(key(attributes) + ".calls", 1);
        add(key(attributes) + ".failures", 1);
        // DynamoDB charges a write whose condition failed (a replayed raw put, a recount's lost compare-and-set)
        // as if it had written; nothing lands in an index.
        if (context.exception() instanceof software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException) {
            add(key(attributes) + ".wru", DynamoCapacity.of(context.request(), null).writeUnits());
        }
    }

    private static String key(ExecutionAttributes attributes) {
        return attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME) + "."
                + attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    }

    private void add(String key, double amount) {
        totals.computeIfAbsent(key, k -> new DoubleAdder()).add(amount);
    }
}
