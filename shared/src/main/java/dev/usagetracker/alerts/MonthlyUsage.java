package dev.usagetracker.alerts;

import dev.usagetracker.ingest.HitOutcome;
import java.time.YearMonth;

/** A client's committed hits in one calendar month (UTC); DynamoDB's daily aggregates are the truth. */
public interface MonthlyUsage {
    /** Every hit of the month, and those of them whose status was 5xx. */
    record Count(long all, long serverErrors) {
        /** What a quota counts: every hit, or every hit but the 5xx ones (DESIGN.md §2b, quota_counts). */
        public long counted(boolean excludeServerErrors) {
            return excludeServerErrors ? all - serverErrors : all;
        }

        /** One hit with that status (null: unknown). */
        public static Count of(Integer status) {
            return new Count(1, HitOutcome.statusClass(status) == HitOutcome.SERVER_ERROR ? 1 : 0);
        }

        public Count plus(Count other) {
            return new Count(all + other.all, serverErrors + other.serverErrors);
        }
    }

    Count count(String clientId, YearMonth month);

    default long used(String clientId, YearMonth month) {
        return count(clientId, month).all();
    }
}
