package dev.pgpolicy.proxy.server;

import dev.pgpolicy.proxy.audit.AuditConnection;
import dev.pgpolicy.proxy.audit.AuditLog;
import dev.pgpolicy.proxy.audit.AuditRecord;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.SessionListener;
import dev.pgpolicy.proxy.session.SessionSummary;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Writes the connection events of every session to the audit log: {@code connection_open} when
 * the client names its user, {@code auth} with the server's verdict, {@code connection_close}
 * with duration, bytes and reason. With {@code audit.fail_closed}, new sessions are refused while
 * the log cannot write (statement records and their refusal belong to policy enforcement).
 *
 * <p>Connections that never name a user (CancelRequests, failed TLS handshakes, port scans) are
 * counted in the metrics, not audited: an audit record names who was connected.
 */
final class AuditTrail implements SessionListener {

    private final AuditLog log;

    AuditTrail(AuditLog log) {
        this.log = Objects.requireNonNull(log);
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
        log.append(AuditRecord.connectionOpened(Instant.now(), session.id(), connection(session), null));
    }

    @Override
    public void authenticated(SessionInfo session) {
        log.append(AuditRecord.authenticated(Instant.now(), session.id(), connection(session),
                session.authMethod().orElse("unknown"), true, null, null));
    }

    @Override
    public void authenticationFailed(SessionInfo session, String reason) {
        // The method is only known once the exchange completes; a refused client never got that far.
        log.append(AuditRecord.authenticated(Instant.now(), session.id(), connection(session),
                session.authMethod().orElse("unknown"), false, reason, null));
    }

    @Override
    public void closed(SessionInfo session, SessionSummary summary) {
        if (!summary.startupSeen()) {
            return;
        }
        log.append(AuditRecord.connectionClosed(Instant.now(), session.id(), connection(session), summary.duration(),
                summary.reason() + " (" + summary.outcome().label() + ", bytes_in=" + summary.bytesIn()
                        + ", bytes_out=" + summary.bytesOut() + ")", null));
    }

    /** Passthrough authentication: the database user is the user the client named; groups come with policies. */
    private static AuditConnection connection(SessionInfo session) {
        InetSocketAddress client = session.clientAddress();
        String user = session.user().orElse("");
        return new AuditConnection(user, List.of(), user, session.database().orElse(user),
                session.applicationName().orElse(null),
                client == null ? "unknown" : client.getAddress().getHostAddress(),
                client == null ? 0 : client.getPort(), session.tls());
    }
}
