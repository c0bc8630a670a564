package dev.pgpolicy.proxy.server;

import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.audit.AuditRecord;
import dev.pgpolicy.proxy.enforce.StatementAudit;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.SessionListener;
import dev.pgpolicy.proxy.session.SessionSummary;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Writes the connection events of every session to the audit log: {@code connection_open} when
 * the client names its user, {@code auth} with the server's verdict, {@code connection_close}
 * with duration, bytes and reason. With {@code audit.fail_closed}, new sessions are refused while
 * the log cannot write (statement records and the refusal of statements are {@link StatementAudit}'s).
 *
 * <p>Connections that never name a user (CancelRequests, failed TLS handshakes, port scans) are
 * counted in the metrics, not audited: an audit record names who was connected.
 */
final class AuditTrail implements SessionListener {

    private final AuditLog log;
    /** The revision of the policy set in force, or null when the proxy relays without policy. */
    private final Supplier<String> policyRevision;

    AuditTrail(AuditLog log, Supplier<String> policyRevision) {
        this.log = Objects.requireNonNull(log);
        this.policyRevision = Objects.requireNonNull(policyRevision);
    }

    @Override
    public String refusal() {
        if (log.failClosed() && !log.healthy()) {
            return "the audit log cannot be written and audit.fail_closed is set: new connections are refused";
        }
        return null;
    }

    @Override
    public void opened(SessionInfo session) {
        log.append(AuditRecord.connectionOpened(Instant.now(), session.id(), connection(session), policyRevision.get()));
    }

    @Override
    public void authenticated(SessionInfo session) {
        log.append(AuditRecord.authenticated(Instant.now(), session.id(), connection(session),
                session.authMethod().orElse("unknown"), true, null, policyRevision.get()));
    }

    @Override
    public void authenticationFailed(SessionInfo session, String reason) {
        // The method is only known once the exchange completes; a refused client never got that far.
        log.append(AuditRecord.authenticated(Instant.now(), session.id(), connection(session),
                session.authMethod().orElse("unknown"), false, reason, policyRevision.get()));
    }

    @Override
    public void closed(SessionInfo session, SessionSummary summary) {
        if (!summary.startupSeen()) {
            return;
        }
        log.append(AuditRecord.connectionClosed(Instant.now(), session.id(), connection(session), summary.duration(),
                summary.reason() + " (" + summary.outcome().label() + ", bytes_in=" + summary.bytesIn()
                        + ", bytes_out=" + summary.bytesOut() + ")", policyRevision.get()));
    }

    /**
     * Passthrough: the user is the role upstream and there are no groups; {@code auth.mode: proxy}:
     * the proxy user, its groups and the mapped service account (see {@link SessionInfo}).
     */
    private static AuditConnection connection(SessionInfo session) {
        return StatementAudit.connection(session);
    }
}
