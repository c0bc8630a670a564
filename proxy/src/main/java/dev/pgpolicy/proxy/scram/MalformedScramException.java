package dev.pgpolicy.proxy.scram;

/** A SCRAM message broke RFC 5802's grammar; the message is the DETAIL for the peer or the log. */
final class MalformedScramException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedScramException(String detail) {
        super(detail, null, false, false);
    }
}
