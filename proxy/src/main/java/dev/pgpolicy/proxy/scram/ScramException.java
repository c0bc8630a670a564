package dev.pgpolicy.proxy.scram;

/**
 * The upstream SCRAM exchange failed: the server's offer or messages were unacceptable, or it
 * could not prove that it knows the verifier. The message is safe to log; it never contains a
 * password, key, proof or nonce.
 */
public final class ScramException extends Exception {
    private static final long serialVersionUID = 1L;

    public ScramException(String message) {
        super(message);
    }
}
