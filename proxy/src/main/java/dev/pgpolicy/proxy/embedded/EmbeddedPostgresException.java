package dev.pgpolicy.proxy.embedded;

/**
 * The embedded PostgreSQL could not be started, stopped or driven. The message names the binary,
 * the directory and carries the tail of the relevant log, so a failed test explains itself.
 */
public final class EmbeddedPostgresException extends RuntimeException {
    public EmbeddedPostgresException(String message) {
        super(message);
    }

    public EmbeddedPostgresException(String message, Throwable cause) {
        super(message, cause);
    }
}
