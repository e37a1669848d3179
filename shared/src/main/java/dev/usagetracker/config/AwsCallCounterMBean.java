package dev.usagetracker.config;

import java.util.Map;

/** The JMX view of {@link AwsCallCounter}: {@code service.operation.metric} → total. */
public interface AwsCallCounterMBean {
    Map<String, Double> getTotals();
}
