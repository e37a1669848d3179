package dev.usagetracker.auth;

/**
 * The one revocation signal (docs/security.md, "Revocation"). Whoever changes a client's credentials
 * (key rotation, allowlist, disable, erasure) writes the Clients row first — bumping its
 * {@code cred_version} — and then calls {@link #changed(String)}, which publishes the new version where
 * every container looks for it on every authentication ({@link #observe(String)}). A container whose
 * cached copy of the row was read under another observation re-reads the row, so a change is effective
 * on the next request everywhere.
 */
public interface CredentialChanges {
    /** The channel a change is announced on (long-lived processes may subscribe: open streams). */
    String CHANNEL = "credentials.changed";

    /** After the row was written: the client's credentials changed. Never throws; a lost signal is logged. */
    void changed(String clientId);

    /**
     * What the signal says about the client right now: an opaque value to compare with the one seen
     * when the cached row was read ({@code null} when nothing was ever published).
     *
     * @throws Unavailable when the signal cannot be read (the caller falls back to its cache TTL)
     */
    String observe(String clientId);

    /** The signal cannot be read right now. */
    final class Unavailable extends RuntimeException {
        public Unavailable(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    /** No signal at all (no Redis configured): caches fall back to their TTL. */
    static CredentialChanges none() {
        return new CredentialChanges() {
            @Override
            public void changed(String clientId) {
                // nothing to announce on
            }

            @Override
            public String observe(String clientId) {
                throw new Unavailable("no credential signal configured", null);
            }
        };
    }
}
