package dev.pgpolicy.proxy.session;

/**
 * Where a session is in its life. Each phase accepts only its own frontend messages ({@link
 * #accepts}); anything else is a protocol violation (08P01, FATAL, close), as it is for
 * PostgreSQL's backend.
 */
public enum Phase {
    /** Waiting for the first packet: SSLRequest, GSSENCRequest, StartupMessage or CancelRequest. */
    STARTUP,
    /** 'S' sent; the TLS handshake runs, then another startup packet follows. */
    TLS_HANDSHAKE,
    /** StartupMessage accepted; the upstream connection (and its TLS) is being set up. */
    CONNECTING,
    /** Relaying the server's authentication requests and the client's answers. */
    AUTHENTICATING,
    /** AuthenticationOk seen: ParameterStatus and BackendKeyData until the first ReadyForQuery. */
    AWAITING_READY,
    /** Normal operation: queries, extended protocol, COPY, function calls. */
    READY,
    /** Closing or closed; nothing more is relayed. */
    CLOSED;

    /** The frontend messages a client may send in the READY phase (PostgreSQL protocol 3.0). */
    private static final String READY_TYPES = "QPBEDCSHXdcfF";

    /** Whether a typed frontend message with this type byte is legal in this phase. */
    public boolean accepts(char type) {
        switch (this) {
            case STARTUP:
            case TLS_HANDSHAKE:
            case CONNECTING:
            case CLOSED:
                // Before the upstream answers, a client has nothing to say; after close, nothing counts.
                return false;
            case AUTHENTICATING:
                // Password, SASLInitialResponse and SASLResponse all use 'p'; Terminate ends the attempt.
                return type == 'p' || type == 'X';
            case AWAITING_READY:
                return type == 'X';
            case READY:
                return READY_TYPES.indexOf(type) >= 0;
        }
        throw new AssertionError(this);
    }

    /** Whether the handshake deadline still applies. */
    public boolean inHandshake() {
        switch (this) {
            case STARTUP:
            case TLS_HANDSHAKE:
            case CONNECTING:
            case AUTHENTICATING:
            case AWAITING_READY:
                return true;
            case READY:
            case CLOSED:
                return false;
        }
        throw new AssertionError(this);
    }
}
