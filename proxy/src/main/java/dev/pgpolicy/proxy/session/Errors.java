package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.ProtocolException;
import dev.pgpolicy.proxy.wire.SqlState;
import java.util.Optional;

/**
 * The one place where a failure inside the proxy becomes what the client sees: a FATAL
 * ErrorResponse with a SQLSTATE, a message written for the client, and a correlation id in
 * DETAIL that matches the log line, never a stack trace. Errors from the server do not pass here;
 * they are relayed verbatim.
 */
public final class Errors {

    private Errors() {}

    /** The FATAL error for {@code failure}; {@code correlationId} also goes into the log line. */
    public static ErrorResponse fatal(Throwable failure, String correlationId) {
        Classified c = classify(failure);
        return ErrorResponse.of(ErrorResponse.SEVERITY_FATAL, c.state(), c.message(),
                "pgpolicy correlation id " + correlationId);
    }

    /** Whether the failure is the peer's doing (logged briefly) rather than a defect (logged with its trace). */
    public static boolean isExpected(Throwable failure) {
        return ProtocolException.find(failure).isPresent() || find(failure).isPresent();
    }

    /** SQLSTATE and client message for a failure, for the error and the log line alike. */
    public static Classified classify(Throwable failure) {
        Optional<ProtocolException> protocol = ProtocolException.find(failure);
        if (protocol.isPresent()) {
            return new Classified(protocol.get().sqlState(), protocol.get().getMessage());
        }
        Optional<SessionException> session = find(failure);
        if (session.isPresent()) {
            return new Classified(session.get().sqlState(), session.get().getMessage());
        }
        return new Classified(SqlState.INTERNAL_ERROR, "internal error in pgpolicy; the session was closed");
    }

    public record Classified(SqlState state, String message) {}

    private static Optional<SessionException> find(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SessionException sessionException) {
                return Optional.of(sessionException);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return Optional.empty();
    }
}
