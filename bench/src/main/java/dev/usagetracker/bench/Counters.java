package dev.usagetracker.bench;

import dev.usagetracker.config.AwsCallCounter;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.TreeMap;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The AWS call counters of every container in this JVM ({@link AwsCallCounter} MBeans), summed per
 * function. The local runtime's own clients (the SQS event source mapping's poller) count as "process".
 */
final class Counters {
    private Counters() {}

    static void enable() {
        System.setProperty(AwsCallCounter.PROPERTY, "true");
    }

    /** function → metric → total. */
    static Map<String, Map<String, Double>> snapshot() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Map<String, Map<String, Double>> all = new TreeMap<>();
        try {
            for (ObjectName name : server.queryNames(new ObjectName("dev.usagetracker:type=AwsCalls,*"), null)) {
                String function = ObjectName.unquote(name.getKeyProperty("function"));
                @SuppressWarnings("unchecked")
                Map<String, Double> totals = (Map<String, Double>) server.getAttribute(name, "Totals");
                Map<String, Double> sum = all.computeIfAbsent(function, f -> new TreeMap<>());
                totals.forEach((k, v) -> sum.merge(k, v, Double::sum));
            }
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
        return all;
    }

    static Map<String, Map<String, Double>> diff(Map<String, Map<String, Double>> after, Map<String, Map<String, Double>> before) {
        Map<String, Map<String, Double>> d = new TreeMap<>();
        after.forEach((function, metrics) -> metrics.forEach((k, v) -> {
            double delta = v - before.getOrDefault(function, Map.of()).getOrDefault(k, 0.0);
            if (delta != 0) d.computeIfAbsent(function, f -> new TreeMap<>()).put(k, delta);
        }));
        return d;
    }

    /** Sum of one metric suffix (".calls", ".wru", …) over the given functions, or all when none given. */
    static double sum(Map<String, Map<String, Double>> counts, String suffix, String... functions) {
        double total = 0;
        for (var e : counts.entrySet()) {
            if (functions.length > 0 && !java.util.List.of(functions).contains(e.getKey())) continue;
            for (var m : e.getValue().entrySet()) if (m.getKey().endsWith(suffix)) total += m.getValue();
        }
        return total;
    }

    static Map<String, Long> diffLongs(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long delta = v - before.getOrDefault(k, 0L);
            if (delta != 0) d.put(k, delta);
        });
        return d;
    }
}
