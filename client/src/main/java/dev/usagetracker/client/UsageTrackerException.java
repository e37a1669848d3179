package dev.usagetracker.client;

/** Completes a {@link UsageTracker#flush()} future whose hits could not be delivered. */
public class UsageTrackerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what happened; never contains the API key */
    public UsageTrackerException(String message) {
        super(message);
    }
}
