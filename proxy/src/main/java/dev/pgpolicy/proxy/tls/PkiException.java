package dev.pgpolicy.proxy.tls;

/** A key or certificate could not be generated, written or read; the message names the file. */
public final class PkiException extends RuntimeException {
    public PkiException(String message) {
        super(message);
    }

    public PkiException(String message, Throwable cause) {
        super(message, cause);
    }
}
