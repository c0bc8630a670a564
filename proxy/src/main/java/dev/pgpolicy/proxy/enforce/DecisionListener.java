package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.Decision;
import dev.pgpolicy.proxy.session.SessionInfo;

/**
 * Told about every policy decision the proxy takes for a statement, after it is taken and before
 * the statement runs or is refused. The audit log attaches here. Called on a decision worker
 * thread; implementations must be quick and thread-safe, and must not throw.
 */
public interface DecisionListener {

    /** What the proxy did with the message. */
    enum Outcome {
        /** Forwarded: the policy allows it. */
        ALLOWED,
        /** Refused with 42501. */
        DENIED,
        /** Forwarded although detect-mode rules would deny it. */
        WOULD_DENY
    }

    /**
     * @param message what the client sent: {@code Query}, {@code Parse} or {@code Bind}
     * @param sql the statement text decided
     * @param revision the policy revision that decided
     */
    void decided(SessionInfo session, String message, String sql, Decision decision, Outcome outcome,
            LivePolicy.Revision revision);

    DecisionListener NONE = (session, message, sql, decision, outcome, revision) -> { };
}
