package dev.usagetracker.alerts;

import java.time.YearMonth;

/** A client's committed hits in one calendar month (UTC); DynamoDB's daily aggregates are the truth. */
public interface MonthlyUsage {
    long used(String clientId, YearMonth month);
}
