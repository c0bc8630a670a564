package dev.pgpolicy.proxy.session;

import dev.pgpolicy.proxy.wire.SqlState;
import java.util.Objects;

/**
 * A condition that ends a session for a reason the client should be told (upstream unreachable,
 * TLS required, too many clients), as opposed to a bug. The message is written for the client and
 * must not contain secrets.
 */
public final class SessionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final SqlState sqlState;

    public SessionException(SqlState sqlState, String message) {
        super(Objects.requireNonNull(message));
        this.sqlState = Objects.requireNonNull(sqlState);
    }

    public SessionException(SqlState sqlState, String message, Throwable cause) {
        super(Objects.requireNonNull(message), cause);
        this.sqlState = Objects.requireNonNull(sqlState);
    }

    public SqlState sqlState() {
        return sqlState;
    }
}
