package dev.pgpolicy.proxy.session;

import java.time.Duration;
import java.util.Objects;

/**
 * How a session ended.
 *
 * @param outcome what the connection amounted to
 * @param startupSeen whether the client sent a StartupMessage (and {@link SessionListener#opened} was called)
 * @param duration from accept to close
 * @param bytesIn bytes received from the client, TLS included
 * @param bytesOut bytes sent to the client, TLS included
 * @param reason why it ended, in words for an operator
 */
public record SessionSummary(Outcome outcome, boolean startupSeen, Duration duration, long bytesIn, long bytesOut,
        String reason) {

    /** The label of {@code pgpolicy_connections_total}. */
    public enum Outcome {
        /** Reached ReadyForQuery. */
        AUTHENTICATED,
        /** The server refused the credentials (or the role, database, pg_hba entry). */
        AUTHENTICATION_FAILED,
        /** The proxy refused it before authentication: connection limit, unwritable audit log, TLS required. */
        REFUSED,
        /** A CancelRequest connection. */
        CANCEL_REQUEST,
        /** Anything else that ended before the session was ready: protocol violation, timeout, hang-up. */
        FAILED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public SessionSummary {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(reason, "reason");
    }
}
