package dev.usagetracker.plans;

import java.time.YearMonth;
import java.util.Map;

/**
 * When each alert threshold of a client's month was reached. The claims are written by the threshold
 * detector (conditional writes, once per client, month and threshold) as one item of the Usage table:
 * {@code pk = "<client_id>#alert#<yyyy-mm>"}, one attribute {@code reached_at_<percent>} (ISO-8601 instant) per
 * threshold reached ({@code store.DynamoThresholdClaims}). This reads them.
 */
public interface ThresholdClaims {
    /** percent → ISO-8601 instant it was reached; absent thresholds were not reached. */
    Map<Integer, String> reached(String clientId, YearMonth month);
}
