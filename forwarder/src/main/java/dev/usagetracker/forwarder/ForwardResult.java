package dev.usagetracker.forwarder;

/**
 * What one invocation did, returned to Lambda and logged: log events seen, hits the service accepted, hits it
 * refused (named in a 400) or whose fate is uncertain (422, or a 400 after an attempt that may have landed),
 * lines that did not parse, and requests sent. Getters, for the Lambda runtime's serialiser.
 */
public final class ForwardResult {
    private final int events;
    private final int accepted;
    private final int rejected;
    private final int uncertain;
    private final int unparsed;
    private final int requests;

    public ForwardResult(int events, int accepted, int rejected, int uncertain, int unparsed, int requests) {
        this.events = events;
        this.accepted = accepted;
        this.rejected = rejected;
        this.uncertain = uncertain;
        this.unparsed = unparsed;
        this.requests = requests;
    }

    public int getEvents() { return events; }
    public int getAccepted() { return accepted; }
    public int getRejected() { return rejected; }
    public int getUncertain() { return uncertain; }
    public int getUnparsed() { return unparsed; }
    public int getRequests() { return requests; }

    @Override
    public String toString() {
        return "{\"events\":" + events + ",\"accepted\":" + accepted + ",\"rejected\":" + rejected
                + ",\"uncertain\":" + uncertain + ",\"unparsed\":" + unparsed + ",\"requests\":" + requests + "}";
    }
}
