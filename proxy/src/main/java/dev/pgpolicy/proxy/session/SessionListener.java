package dev.pgpolicy.proxy.session;

import java.time.Duration;

/**
 * Connection-level events of every session, for metrics and the audit log. Called on the
 * session's event loop; an implementation must not block (the audit log queues, metrics count).
 *
 * <pre>
 *   accept ── StartupMessage ──► opened ──► upstreamConnected ──► authenticated | authenticationFailed
 *          ──► ... ──► closed (always, once, with the outcome)
 * </pre>
 * A connection that never sends a StartupMessage (a CancelRequest, a failed TLS handshake) gets
 * only {@link #closed}: there is nobody to name in an {@code opened} event.
 */
public interface SessionListener {

    SessionListener NONE = new SessionListener() {};

    /**
     * Why new sessions must be refused right now, or null to admit them. Asked once per
     * StartupMessage, before the upstream connection is opened.
     */
    default String refusal() {
        return null;
    }

    /** The client named its user and database; nothing has been sent upstream yet. */
    default void opened(SessionInfo session) {}

    /** The upstream TCP (and TLS) connection is ready, {@code elapsed} after it was started. */
    default void upstreamConnected(SessionInfo session, Duration elapsed) {}

    /** The server accepted the client ({@link SessionInfo#authMethod()} is set). */
    default void authenticated(SessionInfo session) {}

    /** The server refused the client during authentication, with its own words in {@code reason}. */
    default void authenticationFailed(SessionInfo session, String reason) {}

    /** The session ended; called exactly once per accepted connection. */
    default void closed(SessionInfo session, SessionSummary summary) {}

    /** Calls each listener in order; {@link #refusal()} is the first non-null answer. */
    static SessionListener all(SessionListener... listeners) {
        SessionListener[] copy = listeners.clone();
        return new SessionListener() {
            @Override
            public String refusal() {
                for (SessionListener listener : copy) {
                    String reason = listener.refusal();
                    if (reason != null) {
                        return reason;
                    }
                }
                return null;
            }

            @Override
            public void opened(SessionInfo session) {
                for (SessionListener listener : copy) {
                    listener.opened(session);
                }
            }

            @Override
            public void upstreamConnected(SessionInfo session, Duration elapsed) {
                for (SessionListener listener : copy) {
                    listener.upstreamConnected(session, elapsed);
                }
            }

            @Override
            public void authenticated(SessionInfo session) {
                for (SessionListener listener : copy) {
                    listener.authenticated(session);
                }
            }

            @Override
            public void authenticationFailed(SessionInfo session, String reason) {
                for (SessionListener listener : copy) {
                    listener.authenticationFailed(session, reason);
                }
            }

            @Override
            public void closed(SessionInfo session, SessionSummary summary) {
                for (SessionListener listener : copy) {
                    listener.closed(session, summary);
                }
            }
        };
    }
}
