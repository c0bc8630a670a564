package dev.pgpolicy.proxy.wire;

import java.util.Objects;

/**
 * The one exception type for a peer that broke the wire protocol. Its message is safe to send to
 * the client (it names the offending message and the rule it broke, never internal state), and its
 * SQLSTATE is what the ErrorResponse carries; a session that catches it answers FATAL and closes,
 * because after a framing error the byte stream can no longer be trusted.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final SqlState sqlState;

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(SqlState sqlState, String message) {
        super(Objects.requireNonNull(message, "message"));
        this.sqlState = Objects.requireNonNull(sqlState, "sqlState");
    }

    public ProtocolException(SqlState sqlState, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.sqlState = Objects.requireNonNull(sqlState, "sqlState");
    }

    public SqlState sqlState() {
        return sqlState;
    }

    /**
     * The ProtocolException behind {@code failure}, if any: Netty wraps what a decoder throws in a
     * {@code DecoderException}, so handlers look through the cause chain.
     */
    public static java.util.Optional<ProtocolException> find(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ProtocolException protocolException) {
                return java.util.Optional.of(protocolException);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return java.util.Optional.empty();
    }
}
