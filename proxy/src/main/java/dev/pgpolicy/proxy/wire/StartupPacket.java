package dev.pgpolicy.proxy.wire;

/**
 * The untyped packets a client may send first (Int32 length, Int32 code, body), decoded by
 * {@link StartupDecoder}.
 */
public sealed interface StartupPacket extends WireMessage
        permits StartupMessage, SSLRequest, GSSENCRequest, CancelRequest {

    /** Startup packets are at most 10 000 bytes: MAX_STARTUP_PACKET_LENGTH in PostgreSQL's pqcomm.h. */
    int MAX_LENGTH = 10_000;

    /** The request codes, each written as a protocol version of 1234.x so old servers reject them. */
    int CANCEL_REQUEST_CODE = (1234 << 16) | 5678;
    int SSL_REQUEST_CODE = (1234 << 16) | 5679;
    int GSSENC_REQUEST_CODE = (1234 << 16) | 5680;
}
